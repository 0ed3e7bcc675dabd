import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** timestamptz: written as Date (or ISO string), read back as Date. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** timestamptz with a database default (now()). */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb holding a list of strings. */
type StringList = ColumnType<string[], string, string>;

export interface ProjectTable {
  id: string;
  name: string;
  description: string;
  default_signer_id: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** Every certificate the mesh has issued: C2PA hierarchy and mesh mTLS alike. */
export interface CertificateTable {
  id: string;
  serial_number: string; // lower-case hex, no leading zeros stripped
  issuer_id: string | null; // certificates.id of the issuing CA; null for roots
  profile: string;
  subject: string;
  common_name: string;
  organization: string;
  key_algorithm: string;
  project_id: string | null;
  status: string; // PENDING | ACTIVE | REVOKED (EXPIRED is derived from not_after)
  certificate_der: Uint8Array;
  chain_pem: string; // intermediates up to (excluding) the root, leaf excluded
  spki_sha256: string;
  san_uris: StringList;
  key_held_by_ca: boolean;
  /** PKCS#8 sealed with the key-encryption key; never stored in clear. */
  encrypted_private_key: Uint8Array | null;
  is_default_signer: Generated<boolean>;
  not_before: Timestamp;
  not_after: Timestamp;
  issued_at: DefaultTimestamp;
  activated_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  revocation_reason: number | null;
  status_changed_at: DefaultTimestamp;
}

export interface ApiKeyTable {
  id: string;
  project_id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: StringList;
  status: string; // ACTIVE | ROTATING | REVOKED
  created_at: DefaultTimestamp;
  expires_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  revoke_reason: string | null;
  max_asset_bytes: number;
  requests_per_minute: number;
  allowed_origins: StringList;
  request_count: Generated<number>;
  success_count: Generated<number>;
  error_count: Generated<number>;
  replaced_by_key_id: string | null;
}

export interface ClientBindingTable {
  id: string;
  project_id: string;
  name: string;
  spki_sha256: string | null;
  san_uri: string | null;
  scopes: StringList;
  created_at: DefaultTimestamp;
}

export interface AssetTable {
  id: string;
  project_id: string;
  kind: string; // ASSET | HASH_RECORD
  asset_sha256: string;
  input_sha256: string | null;
  format: string;
  size_bytes: number;
  signer_id: string | null;
  certificate_id: string | null;
  manifest_label: string | null;
  title: string;
  description: string;
  tags: StringList;
  status: string; // ACTIVE | DELETED
  request_id: string;
  content_type: string | null;
  headline: string | null;
  author: string | null;
  payload_json: string | null;
  signed_at: Timestamp;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  /** Leaf index of the claim signature in the transparency log; null: not logged. */
  log_index: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface VerificationTable {
  id: string;
  project_id: string | null;
  asset_sha256: string;
  validation_state: string;
  format: string;
  signer: string;
  request_id: string;
  source: string;
  error_count: number;
  first_error_code: string;
  verified_at: DefaultTimestamp;
}

export interface AuditEventTable {
  id: string;
  occurred_at: DefaultTimestamp;
  service: string;
  operation: string;
  status: string; // ok | error
  code: string; // "ok" or the Connect code name
  project_id: string | null;
  identity: string;
  identity_kind: string;
  format: string;
  size_bytes: number;
  duration_ms: number;
  client_ip: string;
  error: string;
  request_id: string;
}

/** Fixed-window counters shared by every instance: the database is the one shared state. */
export interface RateLimitTable {
  bucket: string;
  window_start: Timestamp;
  count: number;
}

export interface WebhookTable {
  id: string;
  project_id: string;
  url: string;
  events: StringList;
  encrypted_secret: Uint8Array;
  created_at: DefaultTimestamp;
  deleted_at: NullableTimestamp;
}

export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  event: string;
  payload: string;
  status: string; // PENDING | DELIVERED | FAILED
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Timestamp;
  locked_until: NullableTimestamp;
  created_at: DefaultTimestamp;
  delivered_at: NullableTimestamp;
}

/** Small named values: CRL numbers, bootstrap markers. */
export interface SettingTable {
  key: string;
  value: string;
  updated_at: DefaultTimestamp;
}

/** A key that signs (or signed) product-certificate proofs. */
export interface ProductCertificateKeyTable {
  kid: string;
  algorithm: string; // ES256 | RS256
  public_jwk: ColumnType<Record<string, unknown>, string, string>;
  /** PKCS#8 sealed with the key-encryption key (the kid as associated data). */
  encrypted_private_key: Uint8Array;
  status: string; // ACTIVE | RETIRED
  created_at: DefaultTimestamp;
  retired_at: NullableTimestamp;
}

/** A product certificate (MC4P): a signed asset bound to domains and product context. */
export interface ProductCertificateTable {
  id: string; // UUID, the public image id
  project_id: string;
  asset_id: string;
  asset_url: string | null;
  authorized_domains: StringList;
  bound_fields: ColumnType<Record<string, string>, string, string>;
  status: string; // ACTIVE | PAUSED | REVOKED
  validation_state: string;
  validation_verified_at: Timestamp;
  kid: string;
  jwt: string;
  issued_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  revoked_at: NullableTimestamp;
}

/** A domain a project claims for its product certificates, and whether it proved it holds it. */
export interface ProductCertificateDomainTable {
  project_id: string;
  domain: string;
  /** The value the DNS TXT record or the well-known file must hold. */
  token: string;
  method: string | null; // DNS_TXT | HTTPS_WELL_KNOWN
  verified_at: NullableTimestamp;
  created_at: DefaultTimestamp;
}

/** The transparency log's one state row (id 1): its origin, key and committed size. */
export interface TlogStateTable {
  id: number;
  origin: string;
  public_key: Uint8Array;
  encrypted_private_key: Uint8Array;
  tree_size: number;
  created_at: DefaultTimestamp;
}

export interface TlogLeafTable {
  idx: number;
  leaf_hash: Uint8Array;
  entry: Uint8Array;
  appended_at: DefaultTimestamp;
}

/** A complete subtree hash: `level` levels above the leaves, the `idx`-th of its level. */
export interface TlogNodeTable {
  level: number;
  idx: number;
  hash: Uint8Array;
}

export interface TlogCheckpointTable {
  tree_size: number;
  root_hash: Uint8Array;
  note: string;
  created_at: DefaultTimestamp;
}

export interface TlogCosignatureTable {
  tree_size: number;
  witness: string;
  signature_line: string;
  cosigned_at: Timestamp;
  received_at: DefaultTimestamp;
}

/** A web console session; the secret itself is only in the browser's cookie. */
export interface ConsoleSessionTable {
  id_hash: string;
  subject_kind: string; // ADMIN_CERTIFICATE or ACCOUNT
  subject: string; // the admin's SPIFFE id, or the account's user id
  certificate_spki_sha256: string | null;
  /** ACCOUNT sessions: the account session (AccountService/Login) the console session stands on. */
  account_session_id: Generated<string | null>;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
}

/** A person's account. `password_hash` is an Argon2id PHC string: never returned, logged or audited. */
export interface UserTable {
  id: string;
  email: string; // lower case
  display_name: string;
  password_hash: string;
  status: string; // ACTIVE | DISABLED
  email_verified_at: NullableTimestamp;
  password_changed_at: DefaultTimestamp;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** A code mailed to a user, kept as its SHA-256 only. */
export interface AccountCodeTable {
  id: string;
  user_id: string;
  purpose: string; // VERIFY_EMAIL | RESET_PASSWORD
  code_hash: string;
  attempts: Generated<number>;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: DefaultTimestamp;
}

/** One login: the family of refresh tokens rotated from it. */
export interface AccountSessionTable {
  id: string;
  user_id: string;
  client_ip: string;
  user_agent: string;
  created_at: DefaultTimestamp;
  last_used_at: DefaultTimestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoke_reason: string | null;
}

export interface AccountRefreshTokenTable {
  id: string;
  session_id: string;
  token_hash: string;
  created_at: DefaultTimestamp;
  rotated_at: NullableTimestamp;
}

/** A key that signs access tokens; its public half is in the JWKS. */
export interface AccountSigningKeyTable {
  kid: string;
  algorithm: string;
  public_jwk: ColumnType<Record<string, unknown>, string, string>;
  encrypted_private_key: Uint8Array;
  status: string; // ACTIVE | RETIRED
  created_at: DefaultTimestamp;
}

/** Mail waiting to be sent, or kept when no SMTP server is configured. */
export interface MailOutboxTable {
  id: string;
  recipient: string;
  subject: string;
  body_text: string;
  status: string; // OUTBOX | SENT | FAILED
  error: string | null;
  created_at: DefaultTimestamp;
  sent_at: NullableTimestamp;
}

export interface OrganizationTable {
  id: string;
  name: string;
  created_at: DefaultTimestamp;
}

export interface OrganizationMemberTable {
  organization_id: string;
  user_id: string;
  role: string; // owner | admin | member | viewer
  created_at: DefaultTimestamp;
}

export interface OrganizationProjectTable {
  project_id: string;
  organization_id: string;
}

export interface OrganizationInvitationTable {
  id: string;
  organization_id: string;
  email: string;
  role: string;
  token_hash: string;
  invited_by: string;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  accepted_at: NullableTimestamp;
}

export interface MeshDatabase {
  projects: ProjectTable;
  certificates: CertificateTable;
  api_keys: ApiKeyTable;
  client_bindings: ClientBindingTable;
  assets: AssetTable;
  verifications: VerificationTable;
  audit_events: AuditEventTable;
  rate_limits: RateLimitTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  settings: SettingTable;
  product_certificate_keys: ProductCertificateKeyTable;
  product_certificates: ProductCertificateTable;
  product_certificate_domains: ProductCertificateDomainTable;
  tlog_state: TlogStateTable;
  tlog_leaves: TlogLeafTable;
  tlog_nodes: TlogNodeTable;
  tlog_checkpoints: TlogCheckpointTable;
  tlog_cosignatures: TlogCosignatureTable;
  console_sessions: ConsoleSessionTable;
  users: UserTable;
  account_codes: AccountCodeTable;
  account_sessions: AccountSessionTable;
  account_refresh_tokens: AccountRefreshTokenTable;
  account_signing_keys: AccountSigningKeyTable;
  mail_outbox: MailOutboxTable;
  organizations: OrganizationTable;
  organization_members: OrganizationMemberTable;
  organization_projects: OrganizationProjectTable;
  organization_invitations: OrganizationInvitationTable;
  soft_bindings: SoftBindingTable;
  manifest_stores: ManifestStoreTable;
  onboarding_applications: OnboardingApplicationTable;
  organization_identity_providers: OrganizationIdentityProviderTable;
  oidc_sign_ins: OidcSignInTable;
  user_identities: UserIdentityTable;
  device_logins: DeviceLoginTable;
}

/** A publisher's or creator's application, and the outcome of its review. */
export interface OnboardingApplicationTable {
  id: string;
  kind: string; // PUBLISHER | CREATOR
  status: string; // PENDING | APPROVED | REJECTED
  organization_name: string;
  contact_email: string;
  contact_name: string;
  domain: string;
  jurisdiction: string;
  description: string;
  created_at: DefaultTimestamp;
  reviewed_at: NullableTimestamp;
  reviewed_by: string | null;
  reason: ColumnType<string, string | undefined, string>;
  organization_id: string | null;
  project_id: string | null;
  certificate_id: string | null;
}

/** A fingerprint of a signed asset (soft binding); bands are the body's four 16-bit quarters. */
export interface SoftBindingTable {
  asset_id: string;
  alg: string;
  project_id: string;
  manifest_label: string;
  value: Uint8Array;
  /** Signed 64-bit integer; written as decimal text (pg reads int8 back as text). */
  fingerprint: ColumnType<string, string, never>;
  band0: number;
  band1: number;
  band2: number;
  band3: number;
  created_at: DefaultTimestamp;
  /** The writing transaction (xid8, as decimal text), set by the database. */
  inserted_xid: ColumnType<string, never, never>;
}

/** The manifest repository: every manifest store the mesh signed, by manifest label. */
export interface ManifestStoreTable {
  manifest_label: string;
  asset_id: string;
  project_id: string;
  manifest_store: Uint8Array;
  created_at: DefaultTimestamp;
}

export type CertificateRow = Selectable<CertificateTable>;
export type NewCertificateRow = Insertable<CertificateTable>;
export type CertificateUpdate = Updateable<CertificateTable>;
export type ProjectRow = Selectable<ProjectTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type ClientBindingRow = Selectable<ClientBindingTable>;
export type AssetRow = Selectable<AssetTable>;
export type VerificationRow = Selectable<VerificationTable>;
export type AuditEventRow = Selectable<AuditEventTable>;
export type NewAuditEventRow = Insertable<AuditEventTable>;
export type WebhookRow = Selectable<WebhookTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type ProductCertificateKeyRow = Selectable<ProductCertificateKeyTable>;
export type ProductCertificateRow = Selectable<ProductCertificateTable>;
export type ProductCertificateDomainRow = Selectable<ProductCertificateDomainTable>;
export type ConsoleSessionRow = Selectable<ConsoleSessionTable>;
export type UserRow = Selectable<UserTable>;
export type AccountCodeRow = Selectable<AccountCodeTable>;
export type AccountSessionRow = Selectable<AccountSessionTable>;
export type AccountRefreshTokenRow = Selectable<AccountRefreshTokenTable>;
export type AccountSigningKeyRow = Selectable<AccountSigningKeyTable>;
export type MailOutboxRow = Selectable<MailOutboxTable>;
export type OrganizationRow = Selectable<OrganizationTable>;
export type OrganizationMemberRow = Selectable<OrganizationMemberTable>;
export type OrganizationInvitationRow = Selectable<OrganizationInvitationTable>;
export type OnboardingApplicationRow = Selectable<OnboardingApplicationTable>;

/** An organization's OpenID Connect provider. */
export interface OrganizationIdentityProviderTable {
  organization_id: string;
  issuer_url: string;
  client_id: string;
  encrypted_client_secret: Uint8Array | null;
  allowed_email_domain: string;
  default_role: string;
  redirect_uri: string;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** A provider sign-in under way; its PKCE verifier and nonce sealed. */
export interface OidcSignInTable {
  id: string;
  state_hash: string;
  organization_id: string;
  encrypted_checks: Uint8Array;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

/** A provider account (issuer and subject) linked to a user. */
export interface UserIdentityTable {
  issuer_url: string;
  subject: string;
  user_id: string;
  created_at: DefaultTimestamp;
}

/** A device login (RFC 8628 shape); both codes as SHA-256 only. */
export interface DeviceLoginTable {
  id: string;
  device_code_hash: string;
  user_code_hash: string;
  client_name: string;
  client_ip: string;
  status: string; // PENDING | APPROVED | USED
  user_id: string | null;
  interval_seconds: number;
  last_polled_at: NullableTimestamp;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
}

export type OrganizationIdentityProviderRow = Selectable<OrganizationIdentityProviderTable>;
export type OidcSignInRow = Selectable<OidcSignInTable>;
export type DeviceLoginRow = Selectable<DeviceLoginTable>;
