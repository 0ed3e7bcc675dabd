export { createGateway, errorBody, type GatewayOptions, type ErrorStyle } from './gateway.js';
export { httpFailureFor, type HttpFailure, type GatewayOperation } from './http-errors.js';
export { MIN_ASSET_BYTES } from './mirrorstage.js';
export { SHIELD_STATES, shieldStateFor, anonymousIdentity, DEFAULT_PUBLIC_LOOKUPS_PER_MINUTE } from './verimago.js';
export { SIGN_ALGORITHM_OIDS, DEFAULT_DIGITAL_SOURCE_TYPE, readDigiCertParameters, chooseSigner } from './digicert.js';
export { mirrorStageVerifyResult } from './verify-result.js';
export { verimagoSettingsFromEnv, VERIMAGO_LIMITS, VERIMAGO_PREFIX } from './verimago-http.js';
