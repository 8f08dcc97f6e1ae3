export * from "./api";
export * from "./database";
export * as factory from "./factories";
