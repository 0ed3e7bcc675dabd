export { createEngine } from './engine.js';
export { createDeadline, type Deadline } from './deadline.js';
export { FairQueue, MESH_FAIRNESS_KEY, type FairnessKey } from './fair-queue.js';
export {
  normalizeFormat,
  sniffFormat,
  checkDeclaredFormat,
  checkSignableForm,
  isSignableFormat,
  formatDisplayName,
  formatExtension,
  SIGNABLE_FORMATS,
  READABLE_FORMATS,
} from './formats.js';
export {
  buildCoseSign1,
  countersignatureData,
  sigStructure,
  protectedHeader,
  claimSignatureReserveSize,
  COSE_ALGORITHMS,
  coseInManifestStore,
  type BuildCoseSign1Options,
} from './cose-sign1.js';
export { summarizeManifestStore, type SignatureDetails } from './manifest-store-report.js';
export { planIntent, SOURCE_INGREDIENT_LABEL, UPDATE_MANIFEST_ACTIONS, type SignIntent, type IntentPlan } from './sign-intent.js';
export { classifyEngineError, describeEngineError } from './engine-errors.js';
export { engineSettings, ACCEPTED_EKUS, type EngineTrust } from './engine-settings.js';
export type {
  ClaimSigner,
  C2paEngine,
  EngineJobStart,
  EngineOptions,
  EngineStats,
  IngredientSummary,
  ManifestStoreReport,
  ReadAssetOptions,
  ReadOptions,
  SignAssetOptions,
  SignAssetResult,
  ValidationState,
  ValidationStatusEntry,
} from './types.js';
export { withEngineSpans } from './traced-engine.js';
