import { Resolver } from 'node:dns/promises';

/** The one DNS question domain verification asks. */
export interface TxtLookup {
  /** The TXT records at `name` (each a list of strings); empty when there are none or no such name. */
  txt(name: string): Promise<string[][]>;
}

const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN']);

/**
 * node:dns with its own resolver: the system's by default, or `servers` (DNS_RESOLVER, e.g.
 * "127.0.0.1:5353" in tests) so verification can be pointed at a resolver the operator trusts.
 */
export class DnsTxtLookup implements TxtLookup {
  private readonly resolver: Resolver;

  constructor(servers: readonly string[] = []) {
    this.resolver = new Resolver({ timeout: 3000, tries: 2 });
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async txt(name: string): Promise<string[][]> {
    try {
      return await this.resolver.resolveTxt(name);
    } catch (error) {
      if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return [];
      throw error;
    }
  }
}
