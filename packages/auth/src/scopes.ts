/** Scopes an API key or client-certificate binding can carry (CONTRACT.md). */
export const SCOPES = ['sign', 'verify', 'registry.read', 'registry.write', 'ca.issue', 'ca.revoke', 'admin'] as const;
export type PublicScope = (typeof SCOPES)[number];
/**
 * `mesh.internal` is held only by the mesh's own service identities: the RPCs services call on
 * each other (CA signing with a key it keeps, registering assets, recording verifications).
 * It can never be granted to a key or a binding.
 */
export type Scope = PublicScope | 'mesh.internal';

export function isPublicScope(value: string): value is PublicScope {
  return (SCOPES as readonly string[]).includes(value);
}

/** What each mesh service identity may call on the others, and nothing more. */
export const SERVICE_SCOPES: Record<string, readonly Scope[]> = {
  // Signs claims with CA-held keys, time-stamps, staples OCSP, registers what it signed.
  signing: ['mesh.internal', 'sign', 'registry.read'],
  // Checks live certificate status, looks assets up, records verifications.
  verification: ['mesh.internal', 'verify', 'registry.read'],
  // Reads projects when binding certificates to them.
  'certificate-authority': ['mesh.internal', 'registry.read'],
  // Webhooks are delivered from its own tables. Onboarding, served beside it, issues an approved
  // organization's signing certificate (in status PENDING: it signs nothing until the
  // organization's owner activates it).
  registry: ['ca.issue'],
};

/**
 * The scope an RPC requires: the caller needs at least one of those listed (`admin` satisfies
 * every scope). `authenticated` means any identity; `public` means none is needed.
 */
export type MethodRequirement = readonly Scope[] | 'authenticated' | 'public';

export const METHOD_SCOPES: Record<string, MethodRequirement> = {
  'grpc.health.v1.Health/Check': 'public',
  'grpc.health.v1.Health/Watch': 'public',
  'grpc.health.v1.Health/List': 'public',
  // Reflection describes the public API (the same .proto files anyone may read), nothing of any
  // project: like most gRPC servers, the mesh answers it without credentials.
  'grpc.reflection.v1.ServerReflection/ServerReflectionInfo': 'public',

  'c2pamesh.signing.v1.SigningService/Sign': ['sign'],
  'c2pamesh.signing.v1.SigningService/SignStream': ['sign'],
  'c2pamesh.signing.v1.SigningService/SignHash': ['sign'],
  'c2pamesh.signing.v1.SigningService/ListSigners': ['sign'],

  'c2pamesh.verification.v1.VerificationService/Verify': ['verify'],
  'c2pamesh.verification.v1.VerificationService/VerifyStream': ['verify'],
  'c2pamesh.verification.v1.VerificationService/VerifyByHash': ['verify'],
  'c2pamesh.verification.v1.VerificationService/VerifyUrl': ['verify'],
  'c2pamesh.verification.v1.VerificationService/VerifyBatch': ['verify'],
  'c2pamesh.verification.v1.VerificationService/ListVerifications': ['verify', 'registry.read'],
  'c2pamesh.verification.v1.VerificationService/MatchSoftBinding': ['verify'],
  'c2pamesh.verification.v1.VerificationService/MatchContent': ['verify'],
  'c2pamesh.verification.v1.VerificationService/GetManifestStore': ['verify'],

  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/IssueCertificate': ['ca.issue'],
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/GetCertificate': ['ca.issue', 'ca.revoke', 'registry.read'],
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/ListCertificates': ['ca.issue', 'ca.revoke', 'registry.read'],
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/ActivateCertificate': ['ca.issue'],
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/RevokeCertificate': ['ca.revoke'],
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/GetCertificateChain': 'authenticated',
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/CheckStatus': 'authenticated',
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/GetCrl': 'authenticated',
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/Timestamp': ['sign'],
  'c2pamesh.certificateauthority.v1.CertificateAuthorityService/SignData': ['mesh.internal'],

  'c2pamesh.registry.v1.RegistryService/CreateProject': ['admin'],
  'c2pamesh.registry.v1.RegistryService/GetProject': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/ListProjects': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/UpdateProject': ['admin'],
  'c2pamesh.registry.v1.RegistryService/CreateApiKey': ['admin'],
  'c2pamesh.registry.v1.RegistryService/ListApiKeys': ['admin'],
  'c2pamesh.registry.v1.RegistryService/GetApiKey': ['admin'],
  'c2pamesh.registry.v1.RegistryService/UpdateApiKey': ['admin'],
  'c2pamesh.registry.v1.RegistryService/RotateApiKey': ['admin'],
  'c2pamesh.registry.v1.RegistryService/RevokeApiKey': ['admin'],
  'c2pamesh.registry.v1.RegistryService/CreateClientBinding': ['admin'],
  'c2pamesh.registry.v1.RegistryService/ListClientBindings': ['admin'],
  'c2pamesh.registry.v1.RegistryService/DeleteClientBinding': ['admin'],
  'c2pamesh.registry.v1.RegistryService/RegisterAsset': ['mesh.internal'],
  'c2pamesh.registry.v1.RegistryService/GetAsset': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/ListAssets': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/UpdateAsset': ['registry.write'],
  'c2pamesh.registry.v1.RegistryService/DeleteAsset': ['registry.write'],
  'c2pamesh.registry.v1.RegistryService/LookupAssetByHash': ['registry.read', 'verify'],
  'c2pamesh.registry.v1.RegistryService/RecordVerification': ['mesh.internal'],
  'c2pamesh.registry.v1.RegistryService/QueryVerifications': ['mesh.internal'],
  'c2pamesh.registry.v1.RegistryService/ListAuditEvents': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/GetUsageStats': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/CreateWebhook': ['registry.write'],
  'c2pamesh.registry.v1.RegistryService/ListWebhooks': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/DeleteWebhook': ['registry.write'],
  'c2pamesh.registry.v1.RegistryService/ListWebhookDeliveries': ['registry.read'],
  'c2pamesh.registry.v1.RegistryService/FindSoftBindingMatches': ['mesh.internal'],
  'c2pamesh.registry.v1.RegistryService/GetStoredManifest': ['mesh.internal'],

  // People sign in: these need no identity (each limits its attempts per address, Login also per account).
  'c2pamesh.account.v1.AccountService/Register': 'public',
  'c2pamesh.account.v1.AccountService/VerifyEmail': 'public',
  'c2pamesh.account.v1.AccountService/ResendVerification': 'public',
  'c2pamesh.account.v1.AccountService/Login': 'public',
  'c2pamesh.account.v1.AccountService/Refresh': 'public',
  'c2pamesh.account.v1.AccountService/Logout': 'public',
  'c2pamesh.account.v1.AccountService/ForgotPassword': 'public',
  'c2pamesh.account.v1.AccountService/ResetPassword': 'public',
  // A person's own account: any identity gets in, the handlers accept only a person's access token.
  'c2pamesh.account.v1.AccountService/ChangePassword': 'authenticated',
  'c2pamesh.account.v1.AccountService/GetCurrentUser': 'authenticated',
  'c2pamesh.account.v1.AccountService/ListSessions': 'authenticated',
  'c2pamesh.account.v1.AccountService/RevokeSession': 'authenticated',
  // Organizations: the handlers check the caller's role in the organization named.
  'c2pamesh.account.v1.AccountService/CreateOrganization': 'authenticated',
  'c2pamesh.account.v1.AccountService/ListOrganizations': 'authenticated',
  'c2pamesh.account.v1.AccountService/CreateOrganizationProject': 'authenticated',
  'c2pamesh.account.v1.AccountService/InviteMember': 'authenticated',
  'c2pamesh.account.v1.AccountService/AcceptInvitation': 'authenticated',
  'c2pamesh.account.v1.AccountService/ListMembers': 'authenticated',
  'c2pamesh.account.v1.AccountService/UpdateMemberRole': 'authenticated',
  'c2pamesh.account.v1.AccountService/RemoveMember': 'authenticated',
  'c2pamesh.account.v1.AccountService/ListInvitations': 'authenticated',
  'c2pamesh.account.v1.AccountService/RevokeInvitation': 'authenticated',

  // Applications: anyone applies and reads the status back by id (a receipt); mesh admins review.
  'c2pamesh.onboarding.v1.OnboardingService/SubmitApplication': 'public',
  'c2pamesh.onboarding.v1.OnboardingService/GetApplication': 'public',
  'c2pamesh.onboarding.v1.OnboardingService/ListApplications': ['admin'],
  'c2pamesh.onboarding.v1.OnboardingService/ReviewApplication': ['admin'],
  // An organization's identity provider: the handlers accept only its owners and admins.
  'c2pamesh.account.v1.AccountService/SetIdentityProvider': 'authenticated',
  'c2pamesh.account.v1.AccountService/GetIdentityProvider': 'authenticated',
  // Signing in through a provider, or from a device: no identity yet (limited per address).
  'c2pamesh.account.v1.AccountService/StartOidcSignIn': 'public',
  'c2pamesh.account.v1.AccountService/FinishOidcSignIn': 'public',
  'c2pamesh.account.v1.AccountService/StartDeviceLogin': 'public',
  'c2pamesh.account.v1.AccountService/PollDeviceLogin': 'public',
  // Approving a device: a person's access token (the handler accepts only that).
  'c2pamesh.account.v1.AccountService/ApproveDeviceLogin': 'authenticated',

  'c2pamesh.productcertificate.v1.ProductCertificateService/CreateProductCertificate': ['registry.write'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/GetProductCertificate': ['registry.read'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/ListProductCertificates': ['registry.read'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/UpdateProductCertificate': ['registry.write'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/PauseProductCertificate': ['registry.write'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/ResumeProductCertificate': ['registry.write'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/RevokeProductCertificate': ['registry.write'],
  // One key signs every project's proofs: rotating it is the mesh operator's decision.
  'c2pamesh.productcertificate.v1.ProductCertificateService/RotateProofKey': ['admin'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/ListProofKeys': ['registry.read'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/StartDomainVerification': ['registry.write'],
  'c2pamesh.productcertificate.v1.ProductCertificateService/CheckDomainVerification': ['registry.write'],

  // Only the signing service appends; the log itself is public (also served as tiles over HTTP).
  'c2pamesh.transparencylog.v1.TransparencyLogService/AppendEntry': ['mesh.internal'],
  'c2pamesh.transparencylog.v1.TransparencyLogService/GetCheckpoint': 'authenticated',
  'c2pamesh.transparencylog.v1.TransparencyLogService/GetInclusionProof': 'authenticated',
  'c2pamesh.transparencylog.v1.TransparencyLogService/GetConsistencyProof': 'authenticated',
};

/** Roles of people in an organization, strongest first. */
export const ORGANIZATION_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type OrganizationRole = (typeof ORGANIZATION_ROLES)[number];

export function isOrganizationRole(value: string): value is OrganizationRole {
  return (ORGANIZATION_ROLES as readonly string[]).includes(value);
}

/**
 * The scopes a role gives on each project of its organization; a person's access token made for
 * one of them carries these, held to that project by the same tenant checks as an API key.
 */
export const ROLE_SCOPES: Record<OrganizationRole, readonly PublicScope[]> = {
  owner: ['sign', 'verify', 'registry.read', 'registry.write', 'ca.issue', 'ca.revoke', 'admin'],
  admin: ['sign', 'verify', 'registry.read', 'registry.write', 'ca.issue', 'ca.revoke', 'admin'],
  member: ['sign', 'verify', 'registry.read', 'registry.write'],
  viewer: ['verify', 'registry.read'],
};

/**
 * Calls that need no identity but are audited all the same: signing in and out, whatever the
 * outcome, so that an account's sign-ins (and attempts at them) can be traced. Their events carry
 * the account that signed in when the handler knows it, never a password, code or token.
 */
export const AUDITED_PUBLIC_METHODS: ReadonlySet<string> = new Set(
  ['Login', 'Refresh', 'Logout', 'ForgotPassword', 'ResetPassword', 'StartOidcSignIn', 'FinishOidcSignIn', 'StartDeviceLogin', 'PollDeviceLogin'].map(
    (method) => `c2pamesh.account.v1.AccountService/${method}`,
  ),
);
