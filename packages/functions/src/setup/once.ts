/**
 * Run a Lambda's start-up once per instance, on first use (importing a handler has no side
 * effects, which the offline infra tests rely on). A failed start-up is retried next time.
 */
export function once(setup: () => Promise<void> | void): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= Promise.resolve()
      .then(setup)
      .catch((error) => {
        ready = undefined;
        throw error;
      });
    return ready;
  };
}
