import { Config, Mailer, SesAccount } from "@fluenzr/core/sending";
import { sesAccountReader, sesMailer } from "@fluenzr/core/sending/ses-mailer";
import { Resource } from "sst";

export function installSending(): void {
  Config.install({
    publicUrl: Resource.Sending.publicUrl,
    configurationSets: Resource.Sending.configurationSets,
    messageIdDomain: Config.sesMessageIdDomain(process.env.AWS_REGION),
  });
  Mailer.install(sesMailer());
  SesAccount.install(sesAccountReader());
}
