import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CallStatsRequest as _corral_plugin_v1_CallStatsRequest, CallStatsRequest__Output as _corral_plugin_v1_CallStatsRequest__Output } from './corral/plugin/v1/CallStatsRequest.ts';
import type { CallStatsResponse as _corral_plugin_v1_CallStatsResponse, CallStatsResponse__Output as _corral_plugin_v1_CallStatsResponse__Output } from './corral/plugin/v1/CallStatsResponse.ts';
import type { CollectGarbageRequest as _corral_plugin_v1_CollectGarbageRequest, CollectGarbageRequest__Output as _corral_plugin_v1_CollectGarbageRequest__Output } from './corral/plugin/v1/CollectGarbageRequest.ts';
import type { CollectGarbageResponse as _corral_plugin_v1_CollectGarbageResponse, CollectGarbageResponse__Output as _corral_plugin_v1_CollectGarbageResponse__Output } from './corral/plugin/v1/CollectGarbageResponse.ts';
import type { ControlClient as _corral_plugin_v1_ControlClient, ControlDefinition as _corral_plugin_v1_ControlDefinition } from './corral/plugin/v1/Control.ts';
import type { DrainRequest as _corral_plugin_v1_DrainRequest, DrainRequest__Output as _corral_plugin_v1_DrainRequest__Output } from './corral/plugin/v1/DrainRequest.ts';
import type { DrainResponse as _corral_plugin_v1_DrainResponse, DrainResponse__Output as _corral_plugin_v1_DrainResponse__Output } from './corral/plugin/v1/DrainResponse.ts';
import type { DrainedRequest as _corral_plugin_v1_DrainedRequest, DrainedRequest__Output as _corral_plugin_v1_DrainedRequest__Output } from './corral/plugin/v1/DrainedRequest.ts';
import type { HandshakeRequest as _corral_plugin_v1_HandshakeRequest, HandshakeRequest__Output as _corral_plugin_v1_HandshakeRequest__Output } from './corral/plugin/v1/HandshakeRequest.ts';
import type { HandshakeResponse as _corral_plugin_v1_HandshakeResponse, HandshakeResponse__Output as _corral_plugin_v1_HandshakeResponse__Output } from './corral/plugin/v1/HandshakeResponse.ts';
import type { MethodCalls as _corral_plugin_v1_MethodCalls, MethodCalls__Output as _corral_plugin_v1_MethodCalls__Output } from './corral/plugin/v1/MethodCalls.ts';
import type { ParkRequest as _corral_plugin_v1_ParkRequest, ParkRequest__Output as _corral_plugin_v1_ParkRequest__Output } from './corral/plugin/v1/ParkRequest.ts';
import type { ParkResponse as _corral_plugin_v1_ParkResponse, ParkResponse__Output as _corral_plugin_v1_ParkResponse__Output } from './corral/plugin/v1/ParkResponse.ts';
import type { ProfileChunk as _corral_plugin_v1_ProfileChunk, ProfileChunk__Output as _corral_plugin_v1_ProfileChunk__Output } from './corral/plugin/v1/ProfileChunk.ts';
import type { ProfileRequest as _corral_plugin_v1_ProfileRequest, ProfileRequest__Output as _corral_plugin_v1_ProfileRequest__Output } from './corral/plugin/v1/ProfileRequest.ts';
import type { ReloadTrustRequest as _corral_plugin_v1_ReloadTrustRequest, ReloadTrustRequest__Output as _corral_plugin_v1_ReloadTrustRequest__Output } from './corral/plugin/v1/ReloadTrustRequest.ts';
import type { ReloadTrustResponse as _corral_plugin_v1_ReloadTrustResponse, ReloadTrustResponse__Output as _corral_plugin_v1_ReloadTrustResponse__Output } from './corral/plugin/v1/ReloadTrustResponse.ts';
import type { RuntimeStats as _corral_plugin_v1_RuntimeStats, RuntimeStats__Output as _corral_plugin_v1_RuntimeStats__Output } from './corral/plugin/v1/RuntimeStats.ts';
import type { StatsRequest as _corral_plugin_v1_StatsRequest, StatsRequest__Output as _corral_plugin_v1_StatsRequest__Output } from './corral/plugin/v1/StatsRequest.ts';
import type { UnparkRequest as _corral_plugin_v1_UnparkRequest, UnparkRequest__Output as _corral_plugin_v1_UnparkRequest__Output } from './corral/plugin/v1/UnparkRequest.ts';
import type { UnparkResponse as _corral_plugin_v1_UnparkResponse, UnparkResponse__Output as _corral_plugin_v1_UnparkResponse__Output } from './corral/plugin/v1/UnparkResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  corral: {
    plugin: {
      v1: {
        CallStatsRequest: MessageTypeDefinition<_corral_plugin_v1_CallStatsRequest, _corral_plugin_v1_CallStatsRequest__Output>
        CallStatsResponse: MessageTypeDefinition<_corral_plugin_v1_CallStatsResponse, _corral_plugin_v1_CallStatsResponse__Output>
        CollectGarbageRequest: MessageTypeDefinition<_corral_plugin_v1_CollectGarbageRequest, _corral_plugin_v1_CollectGarbageRequest__Output>
        CollectGarbageResponse: MessageTypeDefinition<_corral_plugin_v1_CollectGarbageResponse, _corral_plugin_v1_CollectGarbageResponse__Output>
        Control: SubtypeConstructor<typeof grpc.Client, _corral_plugin_v1_ControlClient> & { service: _corral_plugin_v1_ControlDefinition }
        DrainRequest: MessageTypeDefinition<_corral_plugin_v1_DrainRequest, _corral_plugin_v1_DrainRequest__Output>
        DrainResponse: MessageTypeDefinition<_corral_plugin_v1_DrainResponse, _corral_plugin_v1_DrainResponse__Output>
        DrainedRequest: MessageTypeDefinition<_corral_plugin_v1_DrainedRequest, _corral_plugin_v1_DrainedRequest__Output>
        HandshakeRequest: MessageTypeDefinition<_corral_plugin_v1_HandshakeRequest, _corral_plugin_v1_HandshakeRequest__Output>
        HandshakeResponse: MessageTypeDefinition<_corral_plugin_v1_HandshakeResponse, _corral_plugin_v1_HandshakeResponse__Output>
        MethodCalls: MessageTypeDefinition<_corral_plugin_v1_MethodCalls, _corral_plugin_v1_MethodCalls__Output>
        ParkRequest: MessageTypeDefinition<_corral_plugin_v1_ParkRequest, _corral_plugin_v1_ParkRequest__Output>
        ParkResponse: MessageTypeDefinition<_corral_plugin_v1_ParkResponse, _corral_plugin_v1_ParkResponse__Output>
        ProfileChunk: MessageTypeDefinition<_corral_plugin_v1_ProfileChunk, _corral_plugin_v1_ProfileChunk__Output>
        ProfileRequest: MessageTypeDefinition<_corral_plugin_v1_ProfileRequest, _corral_plugin_v1_ProfileRequest__Output>
        ReloadTrustRequest: MessageTypeDefinition<_corral_plugin_v1_ReloadTrustRequest, _corral_plugin_v1_ReloadTrustRequest__Output>
        ReloadTrustResponse: MessageTypeDefinition<_corral_plugin_v1_ReloadTrustResponse, _corral_plugin_v1_ReloadTrustResponse__Output>
        RuntimeStats: MessageTypeDefinition<_corral_plugin_v1_RuntimeStats, _corral_plugin_v1_RuntimeStats__Output>
        StatsRequest: MessageTypeDefinition<_corral_plugin_v1_StatsRequest, _corral_plugin_v1_StatsRequest__Output>
        UnparkRequest: MessageTypeDefinition<_corral_plugin_v1_UnparkRequest, _corral_plugin_v1_UnparkRequest__Output>
        UnparkResponse: MessageTypeDefinition<_corral_plugin_v1_UnparkResponse, _corral_plugin_v1_UnparkResponse__Output>
      }
    }
  }
}

