import { invalidArgument } from '@c2pa-mesh/errors';
import type { SignIntent } from '@c2pa-mesh/engine';
import { signingV1 } from '@c2pa-mesh/proto';

/** SignRequest.intent ↔ the engine's intents: unspecified is `auto` (edit a signed asset, else create). */

const FROM_PROTO: Partial<Record<signingV1.SignIntent, SignIntent | 'auto'>> = {
  [signingV1.SignIntent.UNSPECIFIED]: 'auto',
  [signingV1.SignIntent.CREATE]: 'create',
  [signingV1.SignIntent.EDIT]: 'edit',
  [signingV1.SignIntent.UPDATE]: 'update',
};

const TO_PROTO: Record<SignIntent, signingV1.SignIntent> = {
  create: signingV1.SignIntent.CREATE,
  edit: signingV1.SignIntent.EDIT,
  update: signingV1.SignIntent.UPDATE,
};

export function requestedIntent(intent: signingV1.SignIntent): SignIntent | 'auto' {
  const known = FROM_PROTO[intent];
  // A binary client may send a number this version does not know.
  if (known === undefined) {
    throw invalidArgument(`intent ${String(intent)} is not a sign intent; use SIGN_INTENT_CREATE, SIGN_INTENT_EDIT, SIGN_INTENT_UPDATE or leave it unset`, { details: { field: 'intent' } });
  }
  return known;
}

export const intentToProto = (intent: SignIntent | undefined): signingV1.SignIntent => (intent === undefined ? signingV1.SignIntent.UNSPECIFIED : TO_PROTO[intent]);
