/**
 * Named points between the steps of the engine where tests inject a crash: the code after the
 * point does not run, as if the process died there. In production `point` does nothing.
 */
export type FaultPoint = "tick.afterClaim" | "tick.afterEnqueue" | "sender.afterReserve" | "sender.afterSes" | "sender.afterRecord";

export class InjectedCrash extends Error {
  constructor(readonly at: FaultPoint) {
    super(`injected crash at ${at}`);
    this.name = "InjectedCrash";
  }
}

let injector: ((at: FaultPoint) => boolean) | undefined;

/** Install a decision function (tests); `undefined` turns injection off. */
export function inject(fn: ((at: FaultPoint) => boolean) | undefined): void {
  injector = fn;
}

export function point(at: FaultPoint): void {
  if (injector?.(at)) throw new InjectedCrash(at);
}
