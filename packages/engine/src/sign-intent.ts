import { MeshError, failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';

/**
 * Builder intents (c2pa-rs `Builder::set_intent`): what kind of manifest a signature adds.
 *
 * - create: new content. c2pa-rs wants the digital source type with the intent; it is taken from
 *   the manifest's first action, which must be `c2pa.created` with a `digitalSourceType` (or, for
 *   a caller who sent no manifest, the default the caller of the engine names). No parent.
 * - edit: the source asset becomes the `parentOf` ingredient, with its manifest store and
 *   validation results, and a `c2pa.opened` action names it. c2pa-rs requires `c2pa.opened` to be
 *   the first action of an edit, so a first `c2pa.created` is turned into that `c2pa.opened`
 *   (keeping its `digitalSourceType`, `softwareAgent`, ...: an AI generator re-signing its output
 *   still says how the content came about) rather than refused: clients that always send
 *   `c2pa.created` keep working and the history is kept.
 * - update: an update manifest (C2PA 2.x §"Update manifests"): the parent only, no hard binding,
 *   and only the actions c2pa-rs allows there. The source must carry a manifest.
 *
 * The engine adds the parent ingredient itself (from the source asset, with a label the opened
 * action refers to) instead of leaving it to c2pa-rs's automatic parent, which c2pa-rs skips when
 * the definition already has an inception action.
 */

export type SignIntent = 'create' | 'edit' | 'update';

/** Label of the parent ingredient the engine adds for edit and update; actions name it. */
export const SOURCE_INGREDIENT_LABEL = 'c2pa-mesh.source';

/** Actions c2pa-rs 0.91 allows in an update manifest (`ALLOWED_UPDATE_MANIFEST_ACTIONS`). */
export const UPDATE_MANIFEST_ACTIONS: readonly string[] = ['c2pa.edited.metadata', 'c2pa.opened', 'c2pa.published', 'c2pa.redacted'];

const ACTIONS_LABEL = /^c2pa\.actions(\.v\d+)?(__\d+)?$/;
const INTENT_NAMES: Record<SignIntent, string> = { create: 'CREATE', edit: 'EDIT', update: 'UPDATE' };

/** A definition made ready for one intent: what the worker hands c2pa-rs. */
export interface IntentPlan {
  /** Undefined: the caller's own provenance, signed as given (see declaresParent). */
  intent?: SignIntent;
  /** The manifest definition JSON for `WasmBuilder.fromJson`. */
  manifestDefinition: string;
  /** The value for `WasmBuilder.setIntent` (serde form of c2pa-rs's BuilderIntent); undefined: none. */
  builderIntent?: 'edit' | 'update' | { create: string };
  /** Add the source asset as the parent ingredient (labelled SOURCE_INGREDIENT_LABEL). */
  addsSourceAsParent: boolean;
}

/** A refusal as data: it crosses the worker boundary and becomes a MeshError again. */
export interface IntentRefusal {
  code: 'invalid_argument' | 'failed_precondition';
  message: string;
  details: Record<string, unknown>;
}

export type IntentVariant = { plan: IntentPlan } | { refusal: IntentRefusal };

export interface IntentOptions {
  /**
   * Digital source type of the `c2pa.created` action to add for create when the definition has
   * no actions (a caller who sent no manifest at all). Undefined: such a definition is refused.
   */
  defaultDigitalSourceType?: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function refuse(intent: SignIntent, problem: string, details: Record<string, unknown> = {}): never {
  throw invalidArgument(`intent ${INTENT_NAMES[intent]}: ${problem}`, { details: { field: 'intent', intent: INTENT_NAMES[intent], ...details } });
}

/** The actions arrays of the definition, in order (c2pa-rs takes the inception action from the first). */
function actionLists(definition: JsonObject): JsonObject[][] {
  const assertions = Array.isArray(definition.assertions) ? definition.assertions : [];
  return assertions.flatMap((assertion) => {
    if (!isObject(assertion) || typeof assertion.label !== 'string' || !ACTIONS_LABEL.test(assertion.label)) return [];
    const data = assertion.data;
    return isObject(data) && Array.isArray(data.actions) ? [data.actions.filter(isObject)] : [];
  });
}

function checkNoParent(definition: JsonObject, intent: SignIntent, why: string): void {
  const ingredients = Array.isArray(definition.ingredients) ? definition.ingredients : [];
  ingredients.forEach((ingredient, i) => {
    if (isObject(ingredient) && ingredient.relationship === 'parentOf') {
      refuse(intent, `ingredients[${i}] is a parentOf ingredient, but ${why}`, { field: `manifest_json.ingredients[${i}].relationship` });
    }
  });
}

function planCreate(definition: JsonObject, options: IntentOptions): IntentPlan {
  checkNoParent(definition, 'create', 'new content has no parent; sign it with intent EDIT to keep the source as its parent');
  const first = actionLists(definition).find((list) => list.length > 0)?.[0];
  let digitalSourceType: string;
  if (first === undefined) {
    if (options.defaultDigitalSourceType === undefined) {
      refuse('create', 'a digitalSourceType is required for new content: make the first action {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/…"} in a c2pa.actions assertion', {
        statusCode: 'assertion.action.malformed',
      });
    }
    digitalSourceType = options.defaultDigitalSourceType;
    const assertions = Array.isArray(definition.assertions) ? definition.assertions : [];
    definition.assertions = [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType }] } }, ...assertions];
  } else {
    if (first.action !== 'c2pa.created') {
      refuse('create', `the first action is "${String(first.action)}", but new content starts with "c2pa.created" (with a digitalSourceType); sign with intent EDIT to open an existing asset`, {
        statusCode: 'assertion.action.malformed',
      });
    }
    if (typeof first.digitalSourceType !== 'string' || first.digitalSourceType === '') {
      refuse('create', 'the c2pa.created action needs a digitalSourceType, e.g. "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"', {
        statusCode: 'assertion.action.malformed',
      });
    }
    digitalSourceType = first.digitalSourceType;
  }
  return { intent: 'create', manifestDefinition: JSON.stringify(definition), builderIntent: { create: digitalSourceType }, addsSourceAsParent: false };
}

/** The first action of an edit or update, made the `c2pa.opened` action of the source. */
function openedForSource(intent: SignIntent, action: JsonObject, path: string): JsonObject {
  const parameters = isObject(action.parameters) ? { ...action.parameters } : {};
  if (parameters.ingredientIds !== undefined || parameters.ingredients !== undefined) {
    refuse(intent, `${path}.parameters names ingredients, but the ${String(action.action)} action of an ${INTENT_NAMES[intent]} acts on the asset being signed, which the mesh adds as the parent; leave out ingredientIds`, {
      field: `manifest_json.${path}.parameters`,
    });
  }
  return { ...action, action: 'c2pa.opened', parameters: { ...parameters, ingredientIds: [SOURCE_INGREDIENT_LABEL] } };
}

function planFromSource(definition: JsonObject, intent: 'edit' | 'update'): IntentPlan {
  checkNoParent(definition, intent, 'the asset being signed is the parent; list other ingredients as componentOf or inputTo');
  if (intent === 'update') {
    const ingredients = Array.isArray(definition.ingredients) ? definition.ingredients : [];
    if (ingredients.length > 0) refuse('update', 'an update manifest has exactly one ingredient, the asset being signed; leave out "ingredients"', { field: 'manifest_json.ingredients' });
  }
  const assertions = Array.isArray(definition.assertions) ? definition.assertions : [];
  let firstSeen = false;
  definition.assertions = assertions.map((assertion, i) => {
    if (!isObject(assertion) || typeof assertion.label !== 'string' || !ACTIONS_LABEL.test(assertion.label)) return assertion;
    const data = assertion.data;
    if (!isObject(data) || !Array.isArray(data.actions)) return assertion;
    const actions = data.actions.map((action, j) => {
      if (!isObject(action)) return action;
      const path = `assertions[${i}].data.actions[${j}]`;
      const isFirst = !firstSeen;
      firstSeen = true;
      if (intent === 'update' && action.action !== 'c2pa.created' && !UPDATE_MANIFEST_ACTIONS.includes(String(action.action))) {
        refuse('update', `${path}.action is "${String(action.action)}", but an update manifest changes no content: its actions may only be ${UPDATE_MANIFEST_ACTIONS.join(', ')}`, {
          field: `manifest_json.${path}.action`,
          statusCode: 'manifest.update.invalid',
        });
      }
      if (action.action === 'c2pa.created') {
        if (intent === 'update') {
          refuse('update', `${path}.action is "c2pa.created", but an update manifest adds no content; leave the action out (the mesh writes c2pa.opened for the asset)`, {
            field: `manifest_json.${path}.action`,
            statusCode: 'manifest.update.invalid',
          });
        }
        if (!isFirst) refuse(intent, `${path}.action is "c2pa.created", which may only be the first action`, { field: `manifest_json.${path}.action` });
        return openedForSource(intent, action, path);
      }
      if (action.action === 'c2pa.opened') {
        if (!isFirst) refuse(intent, `${path}.action is "c2pa.opened", which may only be the first action`, { field: `manifest_json.${path}.action` });
        return openedForSource(intent, action, path);
      }
      return action;
    });
    return { ...assertion, data: { ...data, actions } };
  });
  return { intent, manifestDefinition: JSON.stringify(definition), builderIntent: intent, addsSourceAsParent: true };
}

/**
 * The definition (JSON, already checked field by field) made ready for `intent`. Throws
 * invalid_argument naming what to change when the definition cannot be signed with that intent.
 */
export function planIntent(manifestDefinition: string, intent: SignIntent, options: IntentOptions = {}): IntentPlan {
  const parsed: unknown = JSON.parse(manifestDefinition);
  if (!isObject(parsed)) throw invalidArgument('the manifest definition must be a JSON object');
  return intent === 'create' ? planCreate(parsed, options) : planFromSource(parsed, intent);
}

/**
 * Whether the definition names its own `parentOf` ingredient. Without an intent, such a
 * definition on a source without a manifest is signed as given: the caller states the provenance
 * (as before intents). On a source with a manifest it goes the EDIT way, which refuses it rather
 * than drop the source's history.
 */
export function declaresParent(manifestDefinition: string): boolean {
  const parsed: unknown = JSON.parse(manifestDefinition);
  return isObject(parsed) && Array.isArray(parsed.ingredients) && parsed.ingredients.some((i) => isObject(i) && i.relationship === 'parentOf');
}

/** planIntent, with a refusal kept as data instead of thrown. */
export function intentVariant(manifestDefinition: string, intent: SignIntent, options: IntentOptions = {}): IntentVariant {
  try {
    return { plan: planIntent(manifestDefinition, intent, options) };
  } catch (error) {
    if (error instanceof MeshError && (error.code === 'invalid_argument' || error.code === 'failed_precondition')) {
      return { refusal: { code: error.code, message: error.message, details: error.details } };
    }
    throw error;
  }
}

/** An update needs a manifest to update. */
export function updateWithoutManifest(): IntentRefusal {
  const error = failedPrecondition('intent UPDATE: the asset carries no C2PA manifest to update; sign it with intent CREATE or EDIT', {
    details: { field: 'intent', intent: 'UPDATE' },
  });
  return { code: 'failed_precondition', message: error.message, details: error.details };
}
