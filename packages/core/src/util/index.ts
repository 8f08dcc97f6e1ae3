export * from "./id";
export * from "./process";
export * from "./schema";
export * from "./validation";
