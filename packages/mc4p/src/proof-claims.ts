import type { JWTPayload } from 'jose';

/**
 * What the JWT proof attests: the certificate's bindings (domains and product context) and the
 * signed asset it rests on. A verifier offline compares these, not the document around them, with
 * what it observed.
 */
export interface ProofClaims extends JWTPayload {
  iss: string;
  sub: string;
  iat: number;
  mc4p: {
    imageId: string;
    authorizedDomains: string[];
    boundFields: Record<string, string>;
    asset: { sha256: string; url?: string; format: string };
    activeManifest: string;
    validationState: string;
    dateIssued: string;
  };
}
