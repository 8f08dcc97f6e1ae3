/**
 * What the people a workspace emails are owed: the suppression list as users manage it
 * (`suppressions.ts`), and a contact's data shown (`export`) or erased (`erase`).
 */

export { type ContactExport, type Erased, erase, eraseQuery, exportContact } from "./erasure";
export * as Suppressions from "./suppressions";
