import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminClient as _corral_admin_v1_AdminClient, AdminDefinition as _corral_admin_v1_AdminDefinition } from './corral/admin/v1/Admin.ts';
import type { InstanceStatus as _corral_admin_v1_InstanceStatus, InstanceStatus__Output as _corral_admin_v1_InstanceStatus__Output } from './corral/admin/v1/InstanceStatus.ts';
import type { PluginStatus as _corral_admin_v1_PluginStatus, PluginStatus__Output as _corral_admin_v1_PluginStatus__Output } from './corral/admin/v1/PluginStatus.ts';
import type { StatusRequest as _corral_admin_v1_StatusRequest, StatusRequest__Output as _corral_admin_v1_StatusRequest__Output } from './corral/admin/v1/StatusRequest.ts';
import type { StatusResponse as _corral_admin_v1_StatusResponse, StatusResponse__Output as _corral_admin_v1_StatusResponse__Output } from './corral/admin/v1/StatusResponse.ts';
import type { VersionRequest as _corral_admin_v1_VersionRequest, VersionRequest__Output as _corral_admin_v1_VersionRequest__Output } from './corral/admin/v1/VersionRequest.ts';
import type { VersionResponse as _corral_admin_v1_VersionResponse, VersionResponse__Output as _corral_admin_v1_VersionResponse__Output } from './corral/admin/v1/VersionResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  corral: {
    admin: {
      v1: {
        Admin: SubtypeConstructor<typeof grpc.Client, _corral_admin_v1_AdminClient> & { service: _corral_admin_v1_AdminDefinition }
        InstanceStatus: MessageTypeDefinition<_corral_admin_v1_InstanceStatus, _corral_admin_v1_InstanceStatus__Output>
        PluginStatus: MessageTypeDefinition<_corral_admin_v1_PluginStatus, _corral_admin_v1_PluginStatus__Output>
        StatusRequest: MessageTypeDefinition<_corral_admin_v1_StatusRequest, _corral_admin_v1_StatusRequest__Output>
        StatusResponse: MessageTypeDefinition<_corral_admin_v1_StatusResponse, _corral_admin_v1_StatusResponse__Output>
        VersionRequest: MessageTypeDefinition<_corral_admin_v1_VersionRequest, _corral_admin_v1_VersionRequest__Output>
        VersionResponse: MessageTypeDefinition<_corral_admin_v1_VersionResponse, _corral_admin_v1_VersionResponse__Output>
      }
    }
  }
}

