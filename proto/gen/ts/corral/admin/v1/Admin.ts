// Original file: proto/corral/admin/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { StatusRequest as _corral_admin_v1_StatusRequest, StatusRequest__Output as _corral_admin_v1_StatusRequest__Output } from '../../../corral/admin/v1/StatusRequest.ts';
import type { StatusResponse as _corral_admin_v1_StatusResponse, StatusResponse__Output as _corral_admin_v1_StatusResponse__Output } from '../../../corral/admin/v1/StatusResponse.ts';
import type { VersionRequest as _corral_admin_v1_VersionRequest, VersionRequest__Output as _corral_admin_v1_VersionRequest__Output } from '../../../corral/admin/v1/VersionRequest.ts';
import type { VersionResponse as _corral_admin_v1_VersionResponse, VersionResponse__Output as _corral_admin_v1_VersionResponse__Output } from '../../../corral/admin/v1/VersionResponse.ts';

export interface AdminClient extends grpc.Client {
  Status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _corral_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _corral_admin_v1_StatusRequest, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  Version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _corral_admin_v1_VersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _corral_admin_v1_VersionRequest, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  Status: grpc.handleUnaryCall<_corral_admin_v1_StatusRequest__Output, _corral_admin_v1_StatusResponse>;
  
  Version: grpc.handleUnaryCall<_corral_admin_v1_VersionRequest__Output, _corral_admin_v1_VersionResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  Status: MethodDefinition<_corral_admin_v1_StatusRequest, _corral_admin_v1_StatusResponse, _corral_admin_v1_StatusRequest__Output, _corral_admin_v1_StatusResponse__Output>
  Version: MethodDefinition<_corral_admin_v1_VersionRequest, _corral_admin_v1_VersionResponse, _corral_admin_v1_VersionRequest__Output, _corral_admin_v1_VersionResponse__Output>
}
