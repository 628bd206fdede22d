import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { FirestoreServer } from '@firestore-emulator/server';
import { Firestore } from '@google-cloud/firestore';

export interface TestFirestore {
  firestore: Firestore;
  /** Stops the emulator but keeps the client: Firestore gone, as in an outage. */
  kill(): void;
  stop(): Promise<void>;
}

interface GrpcServer {
  bindAsync(address: string, credentials: unknown, done: (error: Error | null, port: number) => void): void;
}

/**
 * Starts `@firestore-emulator/server` in this process on a free 127.0.0.1 port (its own `start`
 * binds 0.0.0.0, so we bind its gRPC server ourselves) and a client pointed at it.
 */
export async function startTestFirestore(): Promise<TestFirestore> {
  const emulator = new FirestoreServer();
  const grpc = (emulator as unknown as { server: GrpcServer }).server;
  // The emulator's own copy of grpc-js: credentials must come from the same copy as its Server.
  const emulatorRequire = createRequire(createRequire(import.meta.url).resolve('@firestore-emulator/server'));
  const { ServerCredentials } = emulatorRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const firestore = new Firestore({
    projectId: `test-${randomBytes(4).toString('hex')}`,
    host: `127.0.0.1:${port}`,
    ssl: false,
    credentials: { client_email: 'test@example.com', private_key: 'unused' },
  });
  let killed = false;
  return {
    firestore,
    kill() {
      killed = true;
      emulator.stop();
    },
    async stop() {
      // After a kill the client still retries abandoned calls; terminating it would reject them
      // inside the SDK, unhandled. The test process ends soon anyway.
      if (killed) return;
      await firestore.terminate();
      emulator.stop();
    },
  };
}
