/**
 * The clock port. Production and local mode read system time; tests and the simulation install
 * a virtual clock and advance it themselves. Domain code never calls `new Date()` for decisions.
 */
let source: () => number = () => Date.now();

export function now(): Date {
  return new Date(source());
}

export function nowMs(): number {
  return source();
}

/** Install a time source (tests); returns a function restoring the previous one. */
export function install(fn: () => number): () => void {
  const previous = source;
  source = fn;
  return () => {
    source = previous;
  };
}

/** A virtual clock for tests and simulations. */
export class VirtualClock {
  constructor(private ms: number) {}
  now = () => this.ms;
  set(at: Date | number) {
    this.ms = typeof at === "number" ? at : at.getTime();
  }
  advance(ms: number) {
    this.ms += ms;
  }
}
