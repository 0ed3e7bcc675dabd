export * from './merkle.js';
export * from './tiles.js';
export * from './note.js';
export { openTransparencyLog, type AppendResult, type CheckpointView, type TransparencyLog, type TransparencyLogOptions } from './log.js';
export { createTransparencyLogService } from './service.js';
export {
  LogVerificationError,
  checkConsistency,
  checkInclusion,
  openTileLog,
  readSeenCheckpoint,
  writeSeenCheckpoint,
  type TileLog,
  type VerifiedCheckpoint,
} from './client.js';
export { witnessOnce, type WitnessOptions, type WitnessOutcome } from './witness.js';
export { transparencyLogSettingsFromEnv, type TransparencyLogSettings } from './settings.js';
