import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useLayoutEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { SayableError } from '../api/errors.js';

export { deviceLabel } from '../format.js';

/** A labelled input; the API's issue for this field (by body name) is shown under it. */
export function Field(props: {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password' | 'date';
  value: string;
  onInput: (value: string) => void;
  /** The action's error; its `issues` for this field are shown under it. */
  error?: unknown;
  autoComplete?: string;
  required?: boolean;
  hint?: string;
  inputMode?: 'numeric' | 'text' | 'email';
  onFocus?: () => void;
}) {
  const id = useId();
  const issue = props.error instanceof ApiError ? props.error.fieldIssue(props.name) : undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        // Preact types narrow `type` per union member; the runtime value is any of ours.
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        autoComplete={props.autoComplete}
        required={props.required}
        inputMode={props.inputMode}
        aria-invalid={issue ? 'true' : undefined}
        aria-describedby={issue ? `${id}-issue` : props.hint ? `${id}-hint` : undefined}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
        onFocus={props.onFocus}
      />
      {props.hint && !issue && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
      {issue && (
        <small id={`${id}-issue`} class="issue">
          {props.label} {issue}
        </small>
      )}
    </div>
  );
}

/** The error of an action, in words, announced to screen readers. */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  const text =
    error instanceof ApiError || error instanceof SayableError
      ? error.words
      : 'Something went wrong. Try again.';
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/** Runs an action, tracking busy and error state for the button and message next to it. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await action(...args);
      } catch (e) {
        setError(e as Error);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [action],
  );
  return { run, busy, error, setError };
}

/** Loads data for a page; `reload` fetches again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then(
      (value) => live && setData(value),
      (e: Error) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, version]);
  return { data, error, reload: () => setVersion((v) => v + 1) };
}

/** A data table: column headings (null for an actions column, named for screen readers only) and rows. */
export function Table({
  head,
  caption,
  children,
}: {
  head: Array<string | null>;
  caption?: string;
  children: ComponentChildren;
}) {
  return (
    <table>
      {caption && <caption class="sr-only">{caption}</caption>}
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h ?? 'actions'} scope="col">
              {h ?? <span class="sr-only">Actions</span>}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty">{children}</p>;
}

export function Button(
  props: ButtonHTMLAttributes<HTMLButtonElement> & {
    busy?: boolean;
    variant?: 'primary' | 'danger' | 'plain';
  },
) {
  const { busy, variant, children, class: cls, ...rest } = props;
  return (
    <button
      type="button"
      {...rest}
      class={`btn ${variant ?? 'plain'} ${cls ?? ''}`}
      disabled={busy || props.disabled}
      aria-busy={busy ? 'true' : undefined}
    >
      {children}
    </button>
  );
}

/** A form whose submit runs an action (the page never reloads); Enter submits as usual. */
export function ActionForm({
  onSubmit,
  class: cls,
  children,
}: {
  onSubmit: () => unknown;
  class?: string;
  children: ComponentChildren;
}) {
  return (
    <form
      class={cls}
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}

export function Submit({ busy, children }: { busy: boolean; children: ComponentChildren }) {
  return (
    <button type="submit" class="btn primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>
      {children}
    </button>
  );
}

export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · SessionForge`;
  }, [title]);
  // The first page in the DOM (before the browser paints it), for the console benchmark.
  useLayoutEffect(() => {
    if (performance.getEntriesByName('sf:first-page').length === 0) performance.mark('sf:first-page');
  }, []);
  return (
    <section class="page">
      <h1>{title}</h1>
      {children}
    </section>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso: string | null | undefined): string {
  return iso ? timeFormat.format(new Date(iso)) : '—';
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A secret the API shows only once (an API key, a SCIM token, a webhook secret): the value, Copy,
 * and "I saved it", which hides it for good.
 */
export function ShownOnce({
  what,
  value,
  testId,
  copyLabel,
  onSaved,
  class: className = 'once',
}: {
  what: string;
  value: string;
  testId: string;
  copyLabel: string;
  onSaved: () => void;
  class?: string;
}) {
  return (
    <div class={className} role="status">
      <p>
        <strong>Copy {what} now: it is shown only once.</strong>
      </p>
      <p>
        <code class="secret" data-testid={testId}>
          {value}
        </code>
      </p>
      <div class="actions">
        <CopyButton text={value} label={copyLabel} />
        <Button onClick={onSaved}>I saved it</Button>
      </div>
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return <Button onClick={async () => setDone(await copyText(text))}>{done ? 'Copied' : label}</Button>;
}
