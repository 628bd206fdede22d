import 'asciinema-player/dist/bundle/asciinema-player.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Recording } from '../api/types.js';
import { ErrorText, Loading, Page, when } from '../components/ui.js';
import { useSession } from '../session.js';

/** One recording, played from its signed URL; this page is the only one that loads the player. */
export function Player({ slug, id }: { slug: string; id: string }) {
  const { orgs } = useSession();
  const org = orgs.find((o) => o.slug === slug);
  const box = useRef<HTMLDivElement>(null);
  const [recording, setRecording] = useState<Recording | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    if (!org) return;
    let player: { dispose(): void } | null = null;
    let live = true;
    (async () => {
      try {
        const [list, playback, lib] = await Promise.all([
          api<{ recordings: Recording[] }>('GET', `/api/orgs/${org.id}/recordings`),
          api<{ url: string; expiresAt: string }>(
            'GET',
            `/api/recordings/${encodeURIComponent(id)}/playback`,
          ),
          import('asciinema-player'),
        ]);
        if (!live || !box.current) return;
        setRecording(list.recordings.find((r) => r.id === id) ?? null);
        player = lib.create(playback.url, box.current, { fit: 'width', autoPlay: true, controls: true });
        setReady(true);
      } catch (e) {
        if (live) setError(e);
      }
    })();
    return () => {
      live = false;
      player?.dispose();
    };
  }, [org?.id, id]);

  return (
    <Page title={recording ? `Recording: ${recording.title}` : 'Recording'}>
      <p>
        <a href={`/orgs/${slug}/recordings`}>Back to recordings</a>
      </p>
      {recording && (
        <p class="muted">
          Started {when(recording.startedAt)} · stopped {when(recording.stoppedAt)} · SHA-256{' '}
          <code>{recording.sha256?.slice(0, 16)}…</code>
        </p>
      )}
      <ErrorText error={error} />
      {!ready && !error && <Loading what="the player" />}
      <div ref={box} class="player" data-testid="player" />
    </Page>
  );
}
