import dns2 from 'dns2';

const NXDOMAIN = 3;

export interface LoopbackDns {
  /** `ip:port`, for DNS_RESOLVER. */
  address: string;
  /** TXT records by name (lower case); each record a list of strings. Absent names answer NXDOMAIN. */
  txt: Map<string, string[][]>;
  stop(): Promise<void>;
}

/** An authoritative-looking DNS server on loopback UDP answering TXT questions from a map. */
export async function startLoopbackDns(): Promise<LoopbackDns> {
  const txt = new Map<string, string[][]>();
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const records = question ? txt.get(question.name.toLowerCase()) : undefined;
      if (!question || !records) {
        response.header.rcode = NXDOMAIN;
      } else {
        for (const data of records) {
          // dns2's types want a Resource instance; its encoder takes this plain record (data: strings).
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 1,
            data,
          } as unknown as (typeof response.answers)[number]);
        }
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = server.addresses().udp?.port;
  if (!port) throw new Error('the loopback DNS server did not start');
  return { address: `127.0.0.1:${port}`, txt, stop: () => server.close() };
}
