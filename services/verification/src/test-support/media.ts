/** The media fixtures (from the engine's test support), and variants made from them at test time. */
import { TRAINED_ALGORITHMIC_MEDIA, UNSIGNED_SAMPLES } from '@c2pa-mesh/engine/test-support';

export {
  mediaDir as MEDIA_DIR,
  readMedia,
  UNSIGNED_SAMPLES,
  MORE_SAMPLES,
  hashMismatchCode,
  TRAINED_ALGORITHMIC_MEDIA,
  flipMediaByte,
  seededRandom,
} from '@c2pa-mesh/engine/test-support';

/** Every fixture, signed or not. */
export const ALL_FIXTURES = [...UNSIGNED_SAMPLES, { file: 'C.jpg', format: 'image/jpeg' }, { file: 'XCA.jpg', format: 'image/jpeg' }] as const;

/** A manifest as an AI image generator sends it: created, with its digital source type. */
export function createdManifest(title: string): string {
  return JSON.stringify({
    title,
    claim_generator_info: [{ name: 'c2pa-mesh-verification-test', version: '1.0.0' }],
    assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
  });
}

