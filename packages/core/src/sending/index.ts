export * as Config from "./config";
export * as Evidence from "./evidence";
export * as Fault from "./fault";
export * as Mailer from "./mailer";
export * as Progress from "./progress";
export * as Sender from "./sender";
export { sweep } from "./sweeper";
export { tick } from "./tick";
