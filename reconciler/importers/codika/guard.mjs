// Preloaded (--import) before a use case's config.ts is evaluated: what Node's
// permission model (--permission, which denies file writes, reads outside the
// allowed folders, child processes, workers and addons) does not cover in Node 24,
// the network, is taken away here. A config.ts describes a use case; it has no
// business opening connections or starting programs.
import { registerHooks } from 'node:module';

const DENIED = new Set(['child_process', 'cluster', 'dgram', 'dns', 'dns/promises', 'http',
  'http2', 'https', 'inspector', 'inspector/promises', 'net', 'tls', 'worker_threads']);

registerHooks({
  resolve(specifier, context, nextResolve) {
    const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
    if (DENIED.has(name)) {
      const error = new Error(`importing '${specifier}' is not allowed while evaluating ` +
        'config.ts (no network, no processes)');
      error.code = 'ERR_ACCESS_DENIED';
      throw error;
    }
    return nextResolve(specifier, context);
  },
});

for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']) {
  if (name in globalThis) {
    Object.defineProperty(globalThis, name, {
      configurable: false, enumerable: false,
      get() {
        throw new Error(`${name} is not available while evaluating config.ts (no network)`);
      },
    });
  }
}
for (const name of ['binding', '_linkedBinding', 'dlopen']) {
  Object.defineProperty(process, name, {
    configurable: false, value: () => {
      throw new Error(`process.${name} is not available while evaluating config.ts`);
    },
  });
}
