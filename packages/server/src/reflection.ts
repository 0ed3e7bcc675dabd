import { create, createRegistry, toBinary, type DescFile } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { ServerReflection, reflectionV1 } from '@c2pa-mesh/proto';

const { ServerReflectionResponseSchema } = reflectionV1;

/**
 * grpc.reflection.v1, written here because no package provides it for connect-node v2: lets
 * `buf curl` and grpcurl list services and fetch descriptors with no .proto files at hand.
 */
export function createReflectionService(files: readonly DescFile[], serviceNames: readonly string[]): ServiceImpl<typeof ServerReflection> {
  const registry = createRegistry(...files);
  const filesByName = new Map<string, DescFile>();
  const index = (file: DescFile) => {
    if (filesByName.has(file.name)) return;
    filesByName.set(file.name, file);
    file.dependencies.forEach(index);
  };
  files.forEach(index);
  const encoded = new Map<string, Uint8Array>();
  const encode = (file: DescFile) => {
    let bytes = encoded.get(file.name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file.name, bytes);
    }
    return bytes;
  };
  // A file and everything it imports, dependencies first, each once.
  const withDependencies = (file: DescFile): Uint8Array[] => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      for (const dep of f.dependencies) visit(dep);
      out.push(encode(f));
    };
    visit(file);
    return out;
  };
  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const direct = registry.get(symbol);
    if (direct) return direct.file;
    // A method: "pkg.Service.Method".
    const dot = symbol.lastIndexOf('.');
    const parent = dot > 0 ? registry.getService(symbol.slice(0, dot)) : undefined;
    return parent?.file;
  };

  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const base = { validHost: req.host, originalRequest: req };
        const error = (code: number, message: string) =>
          create(ServerReflectionResponseSchema, { ...base, messageResponse: { case: 'errorResponse', value: { errorCode: code, errorMessage: message } } });
        const files = (list: Uint8Array[]) =>
          create(ServerReflectionResponseSchema, { ...base, messageResponse: { case: 'fileDescriptorResponse', value: { fileDescriptorProto: list } } });
        const NOT_FOUND = 5;
        switch (req.messageRequest.case) {
          case 'listServices':
            yield create(ServerReflectionResponseSchema, {
              ...base,
              messageResponse: { case: 'listServicesResponse', value: { service: serviceNames.map((name) => ({ name })) } },
            });
            break;
          case 'fileByFilename': {
            const file = filesByName.get(`${req.messageRequest.value.replace(/\.proto$/, '')}`);
            yield file ? files(withDependencies(file)) : error(NOT_FOUND, `file ${req.messageRequest.value} not found`);
            break;
          }
          case 'fileContainingSymbol': {
            const file = fileOfSymbol(req.messageRequest.value);
            yield file ? files(withDependencies(file)) : error(NOT_FOUND, `symbol ${req.messageRequest.value} not found`);
            break;
          }
          case 'fileContainingExtension':
            yield error(NOT_FOUND, 'this server defines no extensions');
            break;
          case 'allExtensionNumbersOfType':
            yield create(ServerReflectionResponseSchema, {
              ...base,
              messageResponse: { case: 'allExtensionNumbersResponse', value: { baseTypeName: req.messageRequest.value, extensionNumber: [] } },
            });
            break;
          default:
            yield error(3, 'empty reflection request');
        }
      }
    },
  };
}
