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

/** IPTC digital source type of the default manifest; see defaultManifestDefinition. */
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

const FIRST_ACTIONS = ['c2pa.created', 'c2pa.opened'];
/** Actions c2pa-rs requires to name the ingredient(s) they act on. */
const INGREDIENT_ACTIONS = ['c2pa.opened', 'c2pa.placed', 'c2pa.removed'];
/** `c2pa.actions`, `c2pa.actions.v2`, with an optional instance suffix (`__1`). */
const ACTIONS_LABEL = /^c2pa\.actions(\.v\d+)?(__\d+)?$/;

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
 * The manifest a caller gets when `manifest_json` is empty: created, with the digital source
 * type `digitalCapture` (content captured by a device), the same default SignHash applies
 * (`AUTHENTIC`). Generated or edited media must say so in its own manifest.
 */
export function defaultManifestDefinition(): Record<string, Json> {
  return {
    assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE }] } }],
  };
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
  firstSeen: boolean;
  /** Labels of the definition's ingredients: what `parameters.ingredientIds` may name. */
  ingredientLabels: ReadonlySet<string>;
}

function checkIngredientParameters(actionPath: string, action: string, entry: Record<string, Json>, state: ActionsCheck): void {
  const parameters = entry.parameters;
  const ids = isObject(parameters) ? parameters.ingredientIds : undefined;
  const linked = isObject(parameters) && parameters.ingredients !== undefined;
  if (linked) return;
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
    if (!state.firstSeen) {
      state.firstSeen = true;
      if (!FIRST_ACTIONS.includes(action)) {
        refuse(`${actionPath}.action`, `is "${action}", but the first action of a manifest must be "c2pa.created" (new content) or "c2pa.opened" (content taken from an ingredient)`, {
          statusCode: 'assertion.action.malformed',
        });
      }
    }
    if (action === 'c2pa.created') {
      const source = entry.digitalSourceType;
      if (source === undefined || source === '') {
        refuse(`${actionPath}.digitalSourceType`, 'is required for a c2pa.created action: the IPTC digital source type, e.g. "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"', {
          statusCode: 'assertion.action.malformed',
        });
      }
      if (typeof source !== 'string') refuse(`${actionPath}.digitalSourceType`, `must be a URI string, not ${typeName(source)}`);
    }
    if (INGREDIENT_ACTIONS.includes(action)) checkIngredientParameters(actionPath, action, entry, state);
  });
}

function checkAssertions(assertions: Json[], ingredients: Json[]): void {
  const labels = ingredients.flatMap((ingredient) => (isObject(ingredient) && typeof ingredient.label === 'string' ? [ingredient.label] : []));
  const state: ActionsCheck = { firstSeen: false, ingredientLabels: new Set(labels) };
  assertions.forEach((entry, i) => {
    const path = `assertions[${i}]`;
    if (!isObject(entry)) refuse(path, `must be an object {"label": ..., "data": ...}, not ${typeName(entry)}`);
    if (typeof entry.label !== 'string' || entry.label.trim() === '') refuse(`${path}.label`, 'is required: the assertion label, e.g. "c2pa.actions"');
    if (!('data' in entry)) refuse(`${path}.data`, `is required: the content of the "${entry.label}" assertion`);
    if (ACTIONS_LABEL.test(entry.label)) checkActions(path, entry.data, state);
  });
  if (!state.firstSeen) {
    refuse('assertions', 'must include a "c2pa.actions" assertion whose first action is "c2pa.created" (with a digitalSourceType) or "c2pa.opened"', {
      statusCode: 'assertion.action.malformed',
    });
  }
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
}

/**
 * Parses and checks `manifest_json`, fills in what the mesh supplies (claim generator, title) and
 * returns the definition for the engine. Throws invalid_argument naming the offending field.
 */
export function prepareManifestDefinition(manifestJson: string, options: { title?: string } = {}): PreparedManifest {
  checkManifestText(manifestJson);
  let definition: Record<string, Json>;
  if (manifestJson.trim() === '') {
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
  if (prepared.claim_generator_info === undefined) {
    prepared.claim_generator_info =
      typeof claimGenerator === 'string' && claimGenerator.trim() !== '' ? [claimGeneratorInfoFrom(claimGenerator)] : [{ ...MESH_CLAIM_GENERATOR }];
  }
  const requestTitle = options.title?.trim();
  if ((prepared.title === undefined || prepared.title === '') && requestTitle) prepared.title = requestTitle;
  const title = typeof prepared.title === 'string' && prepared.title !== '' ? prepared.title : undefined;
  return { json: JSON.stringify(prepared), ...(title === undefined ? {} : { title }) };
}
