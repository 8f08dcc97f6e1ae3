export * from "./id";
export * from "./schema";
export * from "./validation";
