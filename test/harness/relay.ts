// A slow link on loopback: a TCP relay in front of the test sshd that limits each direction to a byte
// rate and counts the bytes it carries, so tests compare bytes on the wire instead of timing anything.
import { connect, createServer, type Socket } from 'node:net';

export interface Relay {
  readonly port: number;
  /** Bytes carried client → server (what a push sends) and server → client, over every connection so far. */
  readonly bytes: { up: number; down: number };
  close(): Promise<void>;
}

/** Copies `from` to `to` at most `rate` bytes a second (pausing the reader), counting as it goes. */
function throttle(from: Socket, to: Socket, rate: number, count: (n: number) => void): void {
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    from.pause();
    to.write(chunk);
    setTimeout(() => from.resume(), Math.ceil((chunk.length / rate) * 1000));
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
}

export function startRelay(targetPort: number, bytesPerSecond: number): Promise<Relay> {
  const bytes = { up: 0, down: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    throttle(client, upstream, bytesPerSecond, (n) => (bytes.up += n));
    throttle(upstream, client, bytesPerSecond, (n) => (bytes.down += n));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        port, bytes,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
