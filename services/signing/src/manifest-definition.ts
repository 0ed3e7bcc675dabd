import { createRequire } from 'node:module';
import { invalidArgument } from '@c2pa-mesh/errors';
import { checkManifestCounts, checkManifestText } from './manifest-limits.js';

/**
 * The manifest definition a caller sends (`manifest_json`), checked before the C2PA engine sees
 * it: the engine's own errors name no field, and some of its refusals come only after the claim
 * has been signed. Rules here are those of c2pa-rs 0.91's ManifestDefinition and of the checks it
 * runs on the manifest it just signed.
 */

const { version: MESH_VERSION } = createRequire(import.meta.url)('../package.json') as { version: string };

/** What the mesh writes as claim generator when the caller names none. */
export const MESH_CLAIM_GENERATOR = Object.freeze({ name: 'c2pa-mesh', version: MESH_VERSION });

/** IPTC digital source type of a new-content manifest when the caller sent none; see defaultManifestDefinition. */
export const DEFAULT_DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture';

const FIELD = 'manifest_json';

/** c2pa-rs ManifestDefinition fields (0.91), plus the legacy `claim_generator` string. */
const KNOWN_FIELDS: Record<string, 'string' | 'integer' | 'array' | 'object'> = {
  claim_version: 'integer',
  vendor: 'string',
  claim_generator: 'string',
  claim_generator_info: 'array',
  metadata: 'array',
  title: 'string',
  format: 'string',
  instance_id: 'string',
  thumbnail: 'object',
  ingredients: 'array',
  assertions: 'array',
  redactions: 'array',
  label: 'string',
};

/**
 * Actions c2pa-rs requires to name the ingredient(s) they act on. `c2pa.opened` is not among
 * them here: with an intent it acts on the asset being signed, and the engine links it (see the
 * engine's sign-intent.ts, which also owns the rules on the first action).
 */
const INGREDIENT_ACTIONS = ['c2pa.placed', 'c2pa.removed'];
/** `c2pa.actions`, `c2pa.actions.v2`, with an optional instance suffix (`__1`). */
const ACTIONS_LABEL = /^c2pa\.actions(\.v\d+)?(__\d+)?$/;
/** schema.org assertions (C2PA 2.1 §A.5 / CAWG): JSON-LD, so `@context` says what the terms mean. */
const SCHEMA_ORG_LABEL = 'stds.schema-org.';
export const SCHEMA_ORG_CONTEXT = 'https://schema.org';

/** Something the service did to the definition that the caller may want to fix at the source. */
export interface ManifestWarning {
  code: string;
  explanation: string;
  /** Where, as a path into the request: `manifest_json.assertions[1].data`. */
  field: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

function refuse(path: string, problem: string, details: Record<string, unknown> = {}): never {
  throw invalidArgument(`${FIELD}: ${path} ${problem}`, { details: { field: `${FIELD}.${path}`, ...details } });
}

function expectType(path: string, value: unknown, expected: 'string' | 'integer' | 'array' | 'object'): void {
  const ok =
    expected === 'string' ? typeof value === 'string'
    : expected === 'integer' ? Number.isInteger(value)
    : expected === 'array' ? Array.isArray(value)
    : isObject(value);
  if (!ok) refuse(path, `must be ${expected === 'integer' ? 'an integer' : expected === 'array' ? 'an array' : `${expected === 'object' ? 'an' : 'a'} ${expected}`}, not ${typeName(value)}`);
}

/**
 * The manifest a caller gets when `manifest_json` is empty: no assertions of its own. What the
 * engine then writes depends on the intent: for new content a `c2pa.created` action with the
 * digital source type `digitalCapture` (content captured by a device, the same default SignHash
 * applies, `AUTHENTIC`; generated media must say so in its own manifest), for an edit or update
 * the `c2pa.opened` action of the asset being signed.
 */
export function defaultManifestDefinition(): Record<string, Json> {
  return {};
}

function checkClaimGeneratorInfo(entries: Json[]): void {
  if (entries.length === 0) refuse('claim_generator_info', 'must name at least one generator ({"name": ..., "version": ...}), or be left out');
  entries.forEach((entry, i) => {
    const path = `claim_generator_info[${i}]`;
    expectType(path, entry, 'object');
    const info = entry as Record<string, Json>;
    if (typeof info.name !== 'string' || info.name.trim() === '') refuse(`${path}.name`, 'is required: the name of the software that made the claim');
    if (info.version !== undefined) expectType(`${path}.version`, info.version, 'string');
  });
}

interface ActionsCheck {
  /** Labels of the definition's ingredients: what `parameters.ingredientIds` may name. */
  ingredientLabels: ReadonlySet<string>;
}

function checkIngredientParameters(actionPath: string, action: string, entry: Record<string, Json>, state: ActionsCheck): void {
  const parameters = entry.parameters;
  const ids = isObject(parameters) ? parameters.ingredientIds : undefined;
  const linked = isObject(parameters) && parameters.ingredients !== undefined;
  if (linked) return;
  if (ids === undefined && !INGREDIENT_ACTIONS.includes(action)) return;
  if (!Array.isArray(ids) || ids.length === 0) {
    refuse(`${actionPath}.parameters.ingredientIds`, `is required for a ${action} action: the labels of the ingredients it acts on (each ingredient in "ingredients" with a "label")`, {
      statusCode: 'assertion.action.ingredientMismatch',
    });
  }
  ids.forEach((id, k) => {
    if (typeof id !== 'string' || !state.ingredientLabels.has(id)) {
      refuse(`${actionPath}.parameters.ingredientIds[${k}]`, `names no ingredient: ${typeof id === 'string' ? `"${id}" is not the label of an entry in "ingredients"` : `must be a string, not ${typeName(id)}`}`, {
        statusCode: 'assertion.action.ingredientMismatch',
      });
    }
  });
}

function checkActions(path: string, data: Json, state: ActionsCheck): void {
  if (!isObject(data)) refuse(`${path}.data`, `must be an object with an "actions" array, not ${typeName(data)}`);
  const actions = data.actions;
  if (!Array.isArray(actions)) refuse(`${path}.data.actions`, actions === undefined ? 'is required: the list of actions' : `must be an array, not ${typeName(actions)}`);
  if (actions.length === 0) refuse(`${path}.data.actions`, 'must list at least one action');
  actions.forEach((entry, j) => {
    const actionPath = `${path}.data.actions[${j}]`;
    if (!isObject(entry)) refuse(actionPath, `must be an object with an "action" name, not ${typeName(entry)}`);
    const action = entry.action;
    if (typeof action !== 'string' || action === '') refuse(`${actionPath}.action`, 'is required: the action name, e.g. "c2pa.created"');
    if (action === 'c2pa.created') {
      const source = entry.digitalSourceType;
      if (source === undefined || source === '') {
        refuse(`${actionPath}.digitalSourceType`, 'is required for a c2pa.created action: the IPTC digital source type, e.g. "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"', {
          statusCode: 'assertion.action.malformed',
        });
      }
      if (typeof source !== 'string') refuse(`${actionPath}.digitalSourceType`, `must be a URI string, not ${typeName(source)}`);
    }
    checkIngredientParameters(actionPath, action, entry, state);
  });
}

function checkAssertions(assertions: Json[], ingredients: Json[]): void {
  const labels = ingredients.flatMap((ingredient) => (isObject(ingredient) && typeof ingredient.label === 'string' ? [ingredient.label] : []));
  const state: ActionsCheck = { ingredientLabels: new Set(labels) };
  assertions.forEach((entry, i) => {
    const path = `assertions[${i}]`;
    if (!isObject(entry)) refuse(path, `must be an object {"label": ..., "data": ...}, not ${typeName(entry)}`);
    if (typeof entry.label !== 'string' || entry.label.trim() === '') refuse(`${path}.label`, 'is required: the assertion label, e.g. "c2pa.actions"');
    if (!('data' in entry)) refuse(`${path}.data`, `is required: the content of the "${entry.label}" assertion`);
    if (ACTIONS_LABEL.test(entry.label)) checkActions(path, entry.data, state);
  });
}

/** "Acme Camera/2.1" → {name: "Acme Camera", version: "2.1"}: the legacy claim_generator form. */
function claimGeneratorInfoFrom(claimGenerator: string): Record<string, Json> {
  const match = /^(.*\S)\/(\S+)$/.exec(claimGenerator.trim());
  return match ? { name: match[1], version: match[2] } : { name: claimGenerator.trim() };
}

export interface PreparedManifest {
  /** The definition as the engine gets it (JSON). */
  json: string;
  /** The manifest's title, if it has one. */
  title?: string;
  /** What was completed in the definition; the caller is told (SignResponse.warnings). */
  warnings: ManifestWarning[];
  /** Set when `manifest_json` was empty: the digital source type to write for new content. */
  defaultDigitalSourceType?: string;
}

/**
 * Adds `"@context": "https://schema.org"` to each `stds.schema-org.*` assertion whose data has no
 * `@context` (MirrorStage's own examples send CreativeWork with `@type` and `author` only).
 * c2pa-rs signs such an assertion as it is, but it is not valid JSON-LD and other validators
 * (c2pa-ts: "Schema.org assertion has invalid context") refuse the whole file. An assertion with
 * a `@context` of its own is left alone: what it says is the caller's to say.
 */
function completeSchemaOrgContexts(assertions: Json[]): { assertions: Json[]; warnings: ManifestWarning[] } {
  const warnings: ManifestWarning[] = [];
  const completed = assertions.map((entry, i) => {
    if (!isObject(entry) || typeof entry.label !== 'string' || !entry.label.startsWith(SCHEMA_ORG_LABEL)) return entry;
    const data = entry.data;
    if (!isObject(data) || data['@context'] !== undefined) return entry;
    warnings.push({
      code: 'manifest.schemaOrgContextAdded',
      explanation: `the "${entry.label}" assertion had no "@context"; "@context": "${SCHEMA_ORG_CONTEXT}" was added so that C2PA validators accept it as schema.org JSON-LD (send it yourself to silence this warning)`,
      field: `${FIELD}.assertions[${i}].data`,
    });
    return { ...entry, data: { '@context': SCHEMA_ORG_CONTEXT, ...data } };
  });
  return { assertions: completed, warnings };
}

/**
 * Parses and checks `manifest_json`, fills in what the mesh supplies (claim generator, title) and
 * returns the definition for the engine. Throws invalid_argument naming the offending field.
 */
export function prepareManifestDefinition(manifestJson: string, options: { title?: string } = {}): PreparedManifest {
  checkManifestText(manifestJson);
  let definition: Record<string, Json>;
  const defaulted = manifestJson.trim() === '';
  if (defaulted) {
    definition = defaultManifestDefinition();
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifestJson);
    } catch (error) {
      throw invalidArgument(`${FIELD} is not valid JSON: ${(error as Error).message}`, { cause: error, details: { field: FIELD } });
    }
    if (!isObject(parsed)) {
      throw invalidArgument(`${FIELD} must be a JSON object (a C2PA manifest definition), not ${typeName(parsed)}`, { details: { field: FIELD } });
    }
    definition = parsed;
    checkManifestCounts(definition, (label) => ACTIONS_LABEL.test(label));
  }

  for (const [key, value] of Object.entries(definition)) {
    const expected = KNOWN_FIELDS[key];
    if (expected === undefined) {
      refuse(key, `is not a manifest definition field; known fields are ${Object.keys(KNOWN_FIELDS).join(', ')}`);
    }
    expectType(key, value, expected);
  }
  if (definition.claim_version !== undefined && definition.claim_version !== 1 && definition.claim_version !== 2) {
    refuse('claim_version', `must be 1 or 2, not ${String(definition.claim_version)}`);
  }
  (definition.redactions as Json[] | undefined)?.forEach((uri, i) => expectType(`redactions[${i}]`, uri, 'string'));
  (definition.ingredients as Json[] | undefined)?.forEach((ingredient, i) => expectType(`ingredients[${i}]`, ingredient, 'object'));
  (definition.metadata as Json[] | undefined)?.forEach((entry, i) => expectType(`metadata[${i}]`, entry, 'object'));
  if (definition.claim_generator_info !== undefined) checkClaimGeneratorInfo(definition.claim_generator_info as Json[]);
  checkAssertions((definition.assertions as Json[] | undefined) ?? [], (definition.ingredients as Json[] | undefined) ?? []);

  // c2pa-rs 0.91 ignores the legacy string; carry it over rather than drop what the caller said.
  const { claim_generator: claimGenerator, ...rest } = definition;
  const prepared: Record<string, Json> = { ...rest };
  let warnings: ManifestWarning[] = [];
  if (Array.isArray(prepared.assertions)) {
    const completed = completeSchemaOrgContexts(prepared.assertions);
    prepared.assertions = completed.assertions;
    warnings = completed.warnings;
  }
  if (prepared.claim_generator_info === undefined) {
    prepared.claim_generator_info =
      typeof claimGenerator === 'string' && claimGenerator.trim() !== '' ? [claimGeneratorInfoFrom(claimGenerator)] : [{ ...MESH_CLAIM_GENERATOR }];
  }
  const requestTitle = options.title?.trim();
  if ((prepared.title === undefined || prepared.title === '') && requestTitle) prepared.title = requestTitle;
  const title = typeof prepared.title === 'string' && prepared.title !== '' ? prepared.title : undefined;
  return {
    json: JSON.stringify(prepared),
    ...(title === undefined ? {} : { title }),
    warnings,
    ...(defaulted ? { defaultDigitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE } : {}),
  };
}
