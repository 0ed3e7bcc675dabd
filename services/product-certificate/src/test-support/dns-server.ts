import dns2 from 'dns2';

const { Packet } = dns2;

/** A real DNS server on loopback (UDP), answering TXT and A records from maps the test changes. */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`, as MESH_MC4P_DNS_SERVERS takes it. */
  address: string;
  txt: Map<string, string[]>;
  a: Map<string, string>;
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const txt = new Map<string, string[]>();
  const a = new Map<string, string>();
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = question.name.toLowerCase();
      if (question.type === Packet.TYPE.TXT) {
        for (const data of txt.get(name) ?? []) response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 1, data } as never);
      } else if (question.type === Packet.TYPE.A && a.has(name)) {
        response.answers.push({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 1, address: a.get(name) } as never);
      }
      void send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  return {
    address: `127.0.0.1:${addresses.udp!.port}`,
    txt,
    a,
    close: () => server.close(),
  };
}
