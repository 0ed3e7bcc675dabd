import type { Command } from 'commander';

/**
 * Request fields the CLI sets from an option whose name is not the field's own (in snake case),
 * by the option's attribute name. Fields named like their option (`--common-name` → common_name)
 * need no entry.
 */
const FIELDS_OF_OPTION: Record<string, readonly string[]> = {
  project: ['project_id'],
  signer: ['signer_id'],
  days: ['validity_days'],
  csr: ['csr_pem'],
  sanUri: ['san_uris'],
  sanDns: ['san_dns'],
  sanIp: ['san_ips'],
  scope: ['scopes'],
  origin: ['allowed_origins'],
  graceHours: ['grace_period_hours'],
  manifest: ['manifest_json'],
  tag: ['tags'],
  certificate: ['certificate_id'],
};

const snakeCase = (name: string) => name.replace(/-/g, '_');

/**
 * What the CLI calls each request field of `command`: the mesh's messages name proto fields
 * ("common_name is required"), a person at the terminal knows the flags ("--common-name").
 * Positional arguments are named as the usage shows them (`<key-id>`).
 */
export function flagNamesOf(command: Command): Map<string, string> {
  const names = new Map<string, string>();
  for (const option of command.options) {
    if (!option.long) continue;
    names.set(snakeCase(option.long.slice(2)), option.long);
    for (const field of FIELDS_OF_OPTION[option.attributeName()] ?? []) names.set(field, option.long);
  }
  for (const argument of command.registeredArguments) names.set(snakeCase(argument.name()), `<${argument.name()}>`);
  return names;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `message` with the proto field names it mentions replaced by the CLI's names. A field with an
 * underscore is no English word, so it is replaced wherever it stands alone; a one-word field
 * ("name", "format") only where the message starts with it, as in "name is required".
 */
export function inFlagNames(message: string, names: ReadonlyMap<string, string>): string {
  let out = message;
  for (const [field, flag] of names) {
    if (field.includes('_')) out = out.replace(new RegExp(`(?<![\\w.\\[-])${escape(field)}(?![\\w\\[-])`, 'g'), flag);
    else out = out.replace(new RegExp(`^${escape(field)}(?= (?:is|must|may)\\b)`), flag);
  }
  return out;
}
