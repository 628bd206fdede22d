import { api } from '../api/client.js';
import { Button, Empty, ErrorText, Loading, Page, useLoad, when } from '../components/ui.js';

interface Message {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
  action: { type: string; url: string };
}

/** The local mail catcher (embedded mode): what `npm start` would have mailed, with its link. */
export function Mailbox() {
  const list = useLoad(() =>
    api<{ messages: Message[] }>('GET', '/api/dev/mailbox', undefined, { anonymous: true }),
  );
  return (
    <Page title="Local mailbox">
      <p class="muted">
        Mail the local runtime would have sent. Only in embedded mode; production sends real mail.
      </p>
      <Button onClick={list.reload}>Refresh</Button>
      {list.error ? (
        <>
          <ErrorText error={list.error} />
          <p>The mailbox exists only when the server runs locally with mail written to its data folder.</p>
        </>
      ) : !list.data ? (
        <Loading what="mail" />
      ) : list.data.messages.length === 0 ? (
        <Empty>No mail yet. Sign up to get one.</Empty>
      ) : (
        <ul class="rows mail">
          {list.data.messages.map((m) => {
            const link = new URL(m.action.url);
            return (
              <li key={m.id}>
                <span>
                  <strong>{m.subject}</strong>
                  <br />
                  <small class="muted">
                    To {m.to} · {when(m.sentAt)}
                  </small>
                </span>
                <a class="btn primary" href={`${link.pathname}${link.search}`}>
                  Open link: {m.subject}
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </Page>
  );
}
