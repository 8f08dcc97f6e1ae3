/**
 * A port: one implementation installed at start-up (the AWS adapter in Lambda, the in-process
 * twin locally and in tests), used by the domain. `install` replaces it; `use` fails loudly when
 * nothing was installed, naming the port.
 */
export function port<T>(name: string): { install(next: T): void; use(): T } {
  let current: T | undefined;
  return {
    install(next: T) {
      current = next;
    },
    use(): T {
      if (current === undefined) throw new Error(`${name} not configured: install one at start-up`);
      return current;
    },
  };
}
