/**
 * The X-Forwarded-For a function sees behind the global external Application Load Balancer:
 * whatever the client sent, then the address the load balancer saw the client connect from, then
 * the load balancer's own address (Cloud Run adds nothing for load-balancer traffic). So the
 * client is the 2nd entry from the right: TRUSTED_PROXY_HOPS=2 (README, Deploy).
 */
export const LOAD_BALANCER_IP = '34.117.10.20';

export function throughLoadBalancer(client: string, clientSent?: string): Record<string, string> {
  const appended = `${client},${LOAD_BALANCER_IP}`;
  return { 'x-forwarded-for': clientSent === undefined ? appended : `${clientSent},${appended}` };
}
