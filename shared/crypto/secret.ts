import { inspect } from 'node:util';

/**
 * Holds a secret value so it cannot end up in a log line, an error message or JSON by accident:
 * every string conversion prints a placeholder. Call `reveal()` only where the raw value is used.
 */
export class Secret<T extends string | Buffer = string | Buffer> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return 'Secret([secret])';
  }
}
