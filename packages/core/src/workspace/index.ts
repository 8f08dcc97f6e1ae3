import { eq } from "drizzle-orm";
import * as Database from "../database";
import { createId } from "../util/id";
import { workspaceTable } from "./workspace.sql";

export { workspaceTable } from "./workspace.sql";

export interface Workspace {
  id: string;
  name: string;
  createdAt: Date;
}

export async function create(name: string): Promise<Workspace> {
  const [row] = await Database.use((db) =>
    db
      .insert(workspaceTable)
      .values({ id: createId("workspace"), name })
      .returning(),
  );
  return row!;
}

export async function fromID(id: string): Promise<Workspace | undefined> {
  const [row] = await Database.use((db) => db.select().from(workspaceTable).where(eq(workspaceTable.id, id)));
  return row;
}

export async function list(): Promise<Workspace[]> {
  return Database.use((db) => db.select().from(workspaceTable).orderBy(workspaceTable.createdAt));
}
