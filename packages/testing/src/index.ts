export * from "./api";
export * from "./assertions";
export * from "./database";
export * from "./engine";
export type { TestWorkspace } from "./factories";
export * as factory from "./factories";
export * from "./queries";
export * from "./sns";
