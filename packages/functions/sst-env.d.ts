/* The links the functions read at run time, as `sst dev`/`sst deploy` would generate them.
   Every name here is declared in infra/ and linked to the functions that read it
   (infra/test checks both directions). */
import "sst";

declare module "sst" {
  export interface Resource {
    DatabaseUrl: { type: "sst.sst.Secret"; value: string };
  }
}
