// Original file: proto/corral/plugin/v1/control.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CallStatsRequest as _corral_plugin_v1_CallStatsRequest, CallStatsRequest__Output as _corral_plugin_v1_CallStatsRequest__Output } from '../../../corral/plugin/v1/CallStatsRequest.ts';
import type { CallStatsResponse as _corral_plugin_v1_CallStatsResponse, CallStatsResponse__Output as _corral_plugin_v1_CallStatsResponse__Output } from '../../../corral/plugin/v1/CallStatsResponse.ts';
import type { CollectGarbageRequest as _corral_plugin_v1_CollectGarbageRequest, CollectGarbageRequest__Output as _corral_plugin_v1_CollectGarbageRequest__Output } from '../../../corral/plugin/v1/CollectGarbageRequest.ts';
import type { CollectGarbageResponse as _corral_plugin_v1_CollectGarbageResponse, CollectGarbageResponse__Output as _corral_plugin_v1_CollectGarbageResponse__Output } from '../../../corral/plugin/v1/CollectGarbageResponse.ts';
import type { DrainRequest as _corral_plugin_v1_DrainRequest, DrainRequest__Output as _corral_plugin_v1_DrainRequest__Output } from '../../../corral/plugin/v1/DrainRequest.ts';
import type { DrainResponse as _corral_plugin_v1_DrainResponse, DrainResponse__Output as _corral_plugin_v1_DrainResponse__Output } from '../../../corral/plugin/v1/DrainResponse.ts';
import type { DrainedRequest as _corral_plugin_v1_DrainedRequest, DrainedRequest__Output as _corral_plugin_v1_DrainedRequest__Output } from '../../../corral/plugin/v1/DrainedRequest.ts';
import type { HandshakeRequest as _corral_plugin_v1_HandshakeRequest, HandshakeRequest__Output as _corral_plugin_v1_HandshakeRequest__Output } from '../../../corral/plugin/v1/HandshakeRequest.ts';
import type { HandshakeResponse as _corral_plugin_v1_HandshakeResponse, HandshakeResponse__Output as _corral_plugin_v1_HandshakeResponse__Output } from '../../../corral/plugin/v1/HandshakeResponse.ts';
import type { ParkRequest as _corral_plugin_v1_ParkRequest, ParkRequest__Output as _corral_plugin_v1_ParkRequest__Output } from '../../../corral/plugin/v1/ParkRequest.ts';
import type { ParkResponse as _corral_plugin_v1_ParkResponse, ParkResponse__Output as _corral_plugin_v1_ParkResponse__Output } from '../../../corral/plugin/v1/ParkResponse.ts';
import type { ProfileChunk as _corral_plugin_v1_ProfileChunk, ProfileChunk__Output as _corral_plugin_v1_ProfileChunk__Output } from '../../../corral/plugin/v1/ProfileChunk.ts';
import type { ProfileRequest as _corral_plugin_v1_ProfileRequest, ProfileRequest__Output as _corral_plugin_v1_ProfileRequest__Output } from '../../../corral/plugin/v1/ProfileRequest.ts';
import type { ReloadTrustRequest as _corral_plugin_v1_ReloadTrustRequest, ReloadTrustRequest__Output as _corral_plugin_v1_ReloadTrustRequest__Output } from '../../../corral/plugin/v1/ReloadTrustRequest.ts';
import type { ReloadTrustResponse as _corral_plugin_v1_ReloadTrustResponse, ReloadTrustResponse__Output as _corral_plugin_v1_ReloadTrustResponse__Output } from '../../../corral/plugin/v1/ReloadTrustResponse.ts';
import type { RuntimeStats as _corral_plugin_v1_RuntimeStats, RuntimeStats__Output as _corral_plugin_v1_RuntimeStats__Output } from '../../../corral/plugin/v1/RuntimeStats.ts';
import type { StatsRequest as _corral_plugin_v1_StatsRequest, StatsRequest__Output as _corral_plugin_v1_StatsRequest__Output } from '../../../corral/plugin/v1/StatsRequest.ts';
import type { UnparkRequest as _corral_plugin_v1_UnparkRequest, UnparkRequest__Output as _corral_plugin_v1_UnparkRequest__Output } from '../../../corral/plugin/v1/UnparkRequest.ts';
import type { UnparkResponse as _corral_plugin_v1_UnparkResponse, UnparkResponse__Output as _corral_plugin_v1_UnparkResponse__Output } from '../../../corral/plugin/v1/UnparkResponse.ts';

export interface ControlClient extends grpc.Client {
  CallStats(argument: _corral_plugin_v1_CallStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  CallStats(argument: _corral_plugin_v1_CallStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  CallStats(argument: _corral_plugin_v1_CallStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  CallStats(argument: _corral_plugin_v1_CallStatsRequest, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  callStats(argument: _corral_plugin_v1_CallStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  callStats(argument: _corral_plugin_v1_CallStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  callStats(argument: _corral_plugin_v1_CallStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  callStats(argument: _corral_plugin_v1_CallStatsRequest, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  
  CollectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  CollectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  CollectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  CollectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  collectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  collectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  collectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  collectGarbage(argument: _corral_plugin_v1_CollectGarbageRequest, callback: grpc.requestCallback<_corral_plugin_v1_CollectGarbageResponse__Output>): grpc.ClientUnaryCall;
  
  Drain(argument: _corral_plugin_v1_DrainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  Drain(argument: _corral_plugin_v1_DrainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  Drain(argument: _corral_plugin_v1_DrainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  Drain(argument: _corral_plugin_v1_DrainRequest, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _corral_plugin_v1_DrainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _corral_plugin_v1_DrainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _corral_plugin_v1_DrainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _corral_plugin_v1_DrainRequest, callback: grpc.requestCallback<_corral_plugin_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  
  Drained(argument: _corral_plugin_v1_DrainedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  Drained(argument: _corral_plugin_v1_DrainedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  Drained(argument: _corral_plugin_v1_DrainedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  Drained(argument: _corral_plugin_v1_DrainedRequest, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  drained(argument: _corral_plugin_v1_DrainedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  drained(argument: _corral_plugin_v1_DrainedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  drained(argument: _corral_plugin_v1_DrainedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  drained(argument: _corral_plugin_v1_DrainedRequest, callback: grpc.requestCallback<_corral_plugin_v1_CallStatsResponse__Output>): grpc.ClientUnaryCall;
  
  Handshake(argument: _corral_plugin_v1_HandshakeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  Handshake(argument: _corral_plugin_v1_HandshakeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  Handshake(argument: _corral_plugin_v1_HandshakeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  Handshake(argument: _corral_plugin_v1_HandshakeRequest, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _corral_plugin_v1_HandshakeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _corral_plugin_v1_HandshakeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _corral_plugin_v1_HandshakeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _corral_plugin_v1_HandshakeRequest, callback: grpc.requestCallback<_corral_plugin_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  
  Park(argument: _corral_plugin_v1_ParkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  Park(argument: _corral_plugin_v1_ParkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  Park(argument: _corral_plugin_v1_ParkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  Park(argument: _corral_plugin_v1_ParkRequest, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  park(argument: _corral_plugin_v1_ParkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  park(argument: _corral_plugin_v1_ParkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  park(argument: _corral_plugin_v1_ParkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  park(argument: _corral_plugin_v1_ParkRequest, callback: grpc.requestCallback<_corral_plugin_v1_ParkResponse__Output>): grpc.ClientUnaryCall;
  
  Profile(argument: _corral_plugin_v1_ProfileRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_ProfileChunk__Output>;
  Profile(argument: _corral_plugin_v1_ProfileRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_ProfileChunk__Output>;
  profile(argument: _corral_plugin_v1_ProfileRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_ProfileChunk__Output>;
  profile(argument: _corral_plugin_v1_ProfileRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_ProfileChunk__Output>;
  
  ReloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  ReloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  ReloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  ReloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  reloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  reloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  reloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  reloadTrust(argument: _corral_plugin_v1_ReloadTrustRequest, callback: grpc.requestCallback<_corral_plugin_v1_ReloadTrustResponse__Output>): grpc.ClientUnaryCall;
  
  Stats(argument: _corral_plugin_v1_StatsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_RuntimeStats__Output>;
  Stats(argument: _corral_plugin_v1_StatsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_RuntimeStats__Output>;
  stats(argument: _corral_plugin_v1_StatsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_RuntimeStats__Output>;
  stats(argument: _corral_plugin_v1_StatsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_plugin_v1_RuntimeStats__Output>;
  
  Unpark(argument: _corral_plugin_v1_UnparkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  Unpark(argument: _corral_plugin_v1_UnparkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  Unpark(argument: _corral_plugin_v1_UnparkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  Unpark(argument: _corral_plugin_v1_UnparkRequest, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  unpark(argument: _corral_plugin_v1_UnparkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  unpark(argument: _corral_plugin_v1_UnparkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  unpark(argument: _corral_plugin_v1_UnparkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  unpark(argument: _corral_plugin_v1_UnparkRequest, callback: grpc.requestCallback<_corral_plugin_v1_UnparkResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ControlHandlers extends grpc.UntypedServiceImplementation {
  CallStats: grpc.handleUnaryCall<_corral_plugin_v1_CallStatsRequest__Output, _corral_plugin_v1_CallStatsResponse>;
  
  CollectGarbage: grpc.handleUnaryCall<_corral_plugin_v1_CollectGarbageRequest__Output, _corral_plugin_v1_CollectGarbageResponse>;
  
  Drain: grpc.handleUnaryCall<_corral_plugin_v1_DrainRequest__Output, _corral_plugin_v1_DrainResponse>;
  
  Drained: grpc.handleUnaryCall<_corral_plugin_v1_DrainedRequest__Output, _corral_plugin_v1_CallStatsResponse>;
  
  Handshake: grpc.handleUnaryCall<_corral_plugin_v1_HandshakeRequest__Output, _corral_plugin_v1_HandshakeResponse>;
  
  Park: grpc.handleUnaryCall<_corral_plugin_v1_ParkRequest__Output, _corral_plugin_v1_ParkResponse>;
  
  Profile: grpc.handleServerStreamingCall<_corral_plugin_v1_ProfileRequest__Output, _corral_plugin_v1_ProfileChunk>;
  
  ReloadTrust: grpc.handleUnaryCall<_corral_plugin_v1_ReloadTrustRequest__Output, _corral_plugin_v1_ReloadTrustResponse>;
  
  Stats: grpc.handleServerStreamingCall<_corral_plugin_v1_StatsRequest__Output, _corral_plugin_v1_RuntimeStats>;
  
  Unpark: grpc.handleUnaryCall<_corral_plugin_v1_UnparkRequest__Output, _corral_plugin_v1_UnparkResponse>;
  
}

export interface ControlDefinition extends grpc.ServiceDefinition {
  CallStats: MethodDefinition<_corral_plugin_v1_CallStatsRequest, _corral_plugin_v1_CallStatsResponse, _corral_plugin_v1_CallStatsRequest__Output, _corral_plugin_v1_CallStatsResponse__Output>
  CollectGarbage: MethodDefinition<_corral_plugin_v1_CollectGarbageRequest, _corral_plugin_v1_CollectGarbageResponse, _corral_plugin_v1_CollectGarbageRequest__Output, _corral_plugin_v1_CollectGarbageResponse__Output>
  Drain: MethodDefinition<_corral_plugin_v1_DrainRequest, _corral_plugin_v1_DrainResponse, _corral_plugin_v1_DrainRequest__Output, _corral_plugin_v1_DrainResponse__Output>
  Drained: MethodDefinition<_corral_plugin_v1_DrainedRequest, _corral_plugin_v1_CallStatsResponse, _corral_plugin_v1_DrainedRequest__Output, _corral_plugin_v1_CallStatsResponse__Output>
  Handshake: MethodDefinition<_corral_plugin_v1_HandshakeRequest, _corral_plugin_v1_HandshakeResponse, _corral_plugin_v1_HandshakeRequest__Output, _corral_plugin_v1_HandshakeResponse__Output>
  Park: MethodDefinition<_corral_plugin_v1_ParkRequest, _corral_plugin_v1_ParkResponse, _corral_plugin_v1_ParkRequest__Output, _corral_plugin_v1_ParkResponse__Output>
  Profile: MethodDefinition<_corral_plugin_v1_ProfileRequest, _corral_plugin_v1_ProfileChunk, _corral_plugin_v1_ProfileRequest__Output, _corral_plugin_v1_ProfileChunk__Output>
  ReloadTrust: MethodDefinition<_corral_plugin_v1_ReloadTrustRequest, _corral_plugin_v1_ReloadTrustResponse, _corral_plugin_v1_ReloadTrustRequest__Output, _corral_plugin_v1_ReloadTrustResponse__Output>
  Stats: MethodDefinition<_corral_plugin_v1_StatsRequest, _corral_plugin_v1_RuntimeStats, _corral_plugin_v1_StatsRequest__Output, _corral_plugin_v1_RuntimeStats__Output>
  Unpark: MethodDefinition<_corral_plugin_v1_UnparkRequest, _corral_plugin_v1_UnparkResponse, _corral_plugin_v1_UnparkRequest__Output, _corral_plugin_v1_UnparkResponse__Output>
}
