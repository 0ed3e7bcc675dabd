import type { GenFile } from '@bufbuild/protobuf/codegenv2';
import {
  CertificateAuthorityService,
  file_c2pamesh_certificateauthority_v1_certificateauthority,
} from './gen/c2pamesh/certificateauthority/v1/certificateauthority_pb.js';
import {
  file_c2pamesh_registry_v1_registry,
  RegistryService,
} from './gen/c2pamesh/registry/v1/registry_pb.js';
import { file_c2pamesh_registry_v1_types } from './gen/c2pamesh/registry/v1/types_pb.js';
import {
  file_c2pamesh_signing_v1_signing,
  SigningService,
} from './gen/c2pamesh/signing/v1/signing_pb.js';
import {
  file_c2pamesh_verification_v1_verification,
  VerificationService,
} from './gen/c2pamesh/verification/v1/verification_pb.js';
import {
  file_c2pamesh_productcertificate_v1_product_certificate,
  ProductCertificateService,
} from './gen/c2pamesh/productcertificate/v1/product_certificate_pb.js';
import {
  file_c2pamesh_transparencylog_v1_transparency_log,
  TransparencyLogService,
} from './gen/c2pamesh/transparencylog/v1/transparency_log_pb.js';
import { AccountService, file_c2pamesh_account_v1_account } from './gen/c2pamesh/account/v1/account_pb.js';
import { file_c2pamesh_softbinding_v1_softbinding } from './gen/c2pamesh/softbinding/v1/softbinding_pb.js';
import { file_c2pamesh_onboarding_v1_onboarding, OnboardingService } from './gen/c2pamesh/onboarding/v1/onboarding_pb.js';
import { file_grpc_health_v1_health, Health } from './gen/grpc/health/v1/health_pb.js';
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection,
} from './gen/grpc/reflection/v1/reflection_pb.js';

// One namespace per Protobuf package: the registry and verification packages both define a
// `VerificationRecord`, so flat re-exports would collide.
export * as signingV1 from './gen/c2pamesh/signing/v1/signing_pb.js';
export * as softBindingV1 from './gen/c2pamesh/softbinding/v1/softbinding_pb.js';
export * as verificationV1 from './gen/c2pamesh/verification/v1/verification_pb.js';
export * as certificateAuthorityV1 from './gen/c2pamesh/certificateauthority/v1/certificateauthority_pb.js';
export * as registryV1 from './registry-v1.js';
export * as productCertificateV1 from './gen/c2pamesh/productcertificate/v1/product_certificate_pb.js';
export * as transparencyLogV1 from './gen/c2pamesh/transparencylog/v1/transparency_log_pb.js';
export * as accountV1 from './gen/c2pamesh/account/v1/account_pb.js';
export * as onboardingV1 from './gen/c2pamesh/onboarding/v1/onboarding_pb.js';
export * as healthV1 from './gen/grpc/health/v1/health_pb.js';
export * as reflectionV1 from './gen/grpc/reflection/v1/reflection_pb.js';

// The service descriptors, directly, for routers and clients.
export {
  AccountService,
  CertificateAuthorityService,
  Health,
  ProductCertificateService,
  RegistryService,
  ServerReflection,
  SigningService,
  TransparencyLogService,
  VerificationService,
  OnboardingService,
};

/** Every generated file, dependencies before dependents: what gRPC server reflection serves. */
export const allFileDescriptors: readonly GenFile[] = [
  file_c2pamesh_softbinding_v1_softbinding,
  file_c2pamesh_signing_v1_signing,
  file_c2pamesh_verification_v1_verification,
  file_c2pamesh_certificateauthority_v1_certificateauthority,
  file_c2pamesh_registry_v1_types,
  file_c2pamesh_registry_v1_registry,
  file_c2pamesh_productcertificate_v1_product_certificate,
  file_c2pamesh_transparencylog_v1_transparency_log,
  file_c2pamesh_account_v1_account,
  file_grpc_health_v1_health,
  file_grpc_reflection_v1_reflection,
  file_c2pamesh_onboarding_v1_onboarding,
];
