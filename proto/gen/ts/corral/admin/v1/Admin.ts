// Original file: proto/corral/admin/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AckAlertsRequest as _corral_admin_v1_AckAlertsRequest, AckAlertsRequest__Output as _corral_admin_v1_AckAlertsRequest__Output } from '../../../corral/admin/v1/AckAlertsRequest.ts';
import type { AckAlertsResponse as _corral_admin_v1_AckAlertsResponse, AckAlertsResponse__Output as _corral_admin_v1_AckAlertsResponse__Output } from '../../../corral/admin/v1/AckAlertsResponse.ts';
import type { CaptureDiagnosticsRequest as _corral_admin_v1_CaptureDiagnosticsRequest, CaptureDiagnosticsRequest__Output as _corral_admin_v1_CaptureDiagnosticsRequest__Output } from '../../../corral/admin/v1/CaptureDiagnosticsRequest.ts';
import type { DeployRequest as _corral_admin_v1_DeployRequest, DeployRequest__Output as _corral_admin_v1_DeployRequest__Output } from '../../../corral/admin/v1/DeployRequest.ts';
import type { DeployResponse as _corral_admin_v1_DeployResponse, DeployResponse__Output as _corral_admin_v1_DeployResponse__Output } from '../../../corral/admin/v1/DeployResponse.ts';
import type { DescribeResponse as _corral_admin_v1_DescribeResponse, DescribeResponse__Output as _corral_admin_v1_DescribeResponse__Output } from '../../../corral/admin/v1/DescribeResponse.ts';
import type { Event as _corral_admin_v1_Event, Event__Output as _corral_admin_v1_Event__Output } from '../../../corral/admin/v1/Event.ts';
import type { IssueCertificateRequest as _corral_admin_v1_IssueCertificateRequest, IssueCertificateRequest__Output as _corral_admin_v1_IssueCertificateRequest__Output } from '../../../corral/admin/v1/IssueCertificateRequest.ts';
import type { IssueCertificateResponse as _corral_admin_v1_IssueCertificateResponse, IssueCertificateResponse__Output as _corral_admin_v1_IssueCertificateResponse__Output } from '../../../corral/admin/v1/IssueCertificateResponse.ts';
import type { ListAlertsRequest as _corral_admin_v1_ListAlertsRequest, ListAlertsRequest__Output as _corral_admin_v1_ListAlertsRequest__Output } from '../../../corral/admin/v1/ListAlertsRequest.ts';
import type { ListAlertsResponse as _corral_admin_v1_ListAlertsResponse, ListAlertsResponse__Output as _corral_admin_v1_ListAlertsResponse__Output } from '../../../corral/admin/v1/ListAlertsResponse.ts';
import type { ListCertificatesRequest as _corral_admin_v1_ListCertificatesRequest, ListCertificatesRequest__Output as _corral_admin_v1_ListCertificatesRequest__Output } from '../../../corral/admin/v1/ListCertificatesRequest.ts';
import type { ListCertificatesResponse as _corral_admin_v1_ListCertificatesResponse, ListCertificatesResponse__Output as _corral_admin_v1_ListCertificatesResponse__Output } from '../../../corral/admin/v1/ListCertificatesResponse.ts';
import type { ListDiagnosticsRequest as _corral_admin_v1_ListDiagnosticsRequest, ListDiagnosticsRequest__Output as _corral_admin_v1_ListDiagnosticsRequest__Output } from '../../../corral/admin/v1/ListDiagnosticsRequest.ts';
import type { ListDiagnosticsResponse as _corral_admin_v1_ListDiagnosticsResponse, ListDiagnosticsResponse__Output as _corral_admin_v1_ListDiagnosticsResponse__Output } from '../../../corral/admin/v1/ListDiagnosticsResponse.ts';
import type { ListReleasesRequest as _corral_admin_v1_ListReleasesRequest, ListReleasesRequest__Output as _corral_admin_v1_ListReleasesRequest__Output } from '../../../corral/admin/v1/ListReleasesRequest.ts';
import type { ListReleasesResponse as _corral_admin_v1_ListReleasesResponse, ListReleasesResponse__Output as _corral_admin_v1_ListReleasesResponse__Output } from '../../../corral/admin/v1/ListReleasesResponse.ts';
import type { LogLine as _corral_admin_v1_LogLine, LogLine__Output as _corral_admin_v1_LogLine__Output } from '../../../corral/admin/v1/LogLine.ts';
import type { LogsRequest as _corral_admin_v1_LogsRequest, LogsRequest__Output as _corral_admin_v1_LogsRequest__Output } from '../../../corral/admin/v1/LogsRequest.ts';
import type { PluginRequest as _corral_admin_v1_PluginRequest, PluginRequest__Output as _corral_admin_v1_PluginRequest__Output } from '../../../corral/admin/v1/PluginRequest.ts';
import type { PluginStatus as _corral_admin_v1_PluginStatus, PluginStatus__Output as _corral_admin_v1_PluginStatus__Output } from '../../../corral/admin/v1/PluginStatus.ts';
import type { ReloadRequest as _corral_admin_v1_ReloadRequest, ReloadRequest__Output as _corral_admin_v1_ReloadRequest__Output } from '../../../corral/admin/v1/ReloadRequest.ts';
import type { ReloadResponse as _corral_admin_v1_ReloadResponse, ReloadResponse__Output as _corral_admin_v1_ReloadResponse__Output } from '../../../corral/admin/v1/ReloadResponse.ts';
import type { RevokeCertificateRequest as _corral_admin_v1_RevokeCertificateRequest, RevokeCertificateRequest__Output as _corral_admin_v1_RevokeCertificateRequest__Output } from '../../../corral/admin/v1/RevokeCertificateRequest.ts';
import type { RevokeCertificateResponse as _corral_admin_v1_RevokeCertificateResponse, RevokeCertificateResponse__Output as _corral_admin_v1_RevokeCertificateResponse__Output } from '../../../corral/admin/v1/RevokeCertificateResponse.ts';
import type { RollbackRequest as _corral_admin_v1_RollbackRequest, RollbackRequest__Output as _corral_admin_v1_RollbackRequest__Output } from '../../../corral/admin/v1/RollbackRequest.ts';
import type { RotateCertificatesRequest as _corral_admin_v1_RotateCertificatesRequest, RotateCertificatesRequest__Output as _corral_admin_v1_RotateCertificatesRequest__Output } from '../../../corral/admin/v1/RotateCertificatesRequest.ts';
import type { RotateCertificatesResponse as _corral_admin_v1_RotateCertificatesResponse, RotateCertificatesResponse__Output as _corral_admin_v1_RotateCertificatesResponse__Output } from '../../../corral/admin/v1/RotateCertificatesResponse.ts';
import type { StatusRequest as _corral_admin_v1_StatusRequest, StatusRequest__Output as _corral_admin_v1_StatusRequest__Output } from '../../../corral/admin/v1/StatusRequest.ts';
import type { StatusResponse as _corral_admin_v1_StatusResponse, StatusResponse__Output as _corral_admin_v1_StatusResponse__Output } from '../../../corral/admin/v1/StatusResponse.ts';
import type { UnrevokeIdentityRequest as _corral_admin_v1_UnrevokeIdentityRequest, UnrevokeIdentityRequest__Output as _corral_admin_v1_UnrevokeIdentityRequest__Output } from '../../../corral/admin/v1/UnrevokeIdentityRequest.ts';
import type { UnrevokeIdentityResponse as _corral_admin_v1_UnrevokeIdentityResponse, UnrevokeIdentityResponse__Output as _corral_admin_v1_UnrevokeIdentityResponse__Output } from '../../../corral/admin/v1/UnrevokeIdentityResponse.ts';
import type { ValidateConfigRequest as _corral_admin_v1_ValidateConfigRequest, ValidateConfigRequest__Output as _corral_admin_v1_ValidateConfigRequest__Output } from '../../../corral/admin/v1/ValidateConfigRequest.ts';
import type { ValidateConfigResponse as _corral_admin_v1_ValidateConfigResponse, ValidateConfigResponse__Output as _corral_admin_v1_ValidateConfigResponse__Output } from '../../../corral/admin/v1/ValidateConfigResponse.ts';
import type { VersionRequest as _corral_admin_v1_VersionRequest, VersionRequest__Output as _corral_admin_v1_VersionRequest__Output } from '../../../corral/admin/v1/VersionRequest.ts';
import type { VersionResponse as _corral_admin_v1_VersionResponse, VersionResponse__Output as _corral_admin_v1_VersionResponse__Output } from '../../../corral/admin/v1/VersionResponse.ts';
import type { WatchEventsRequest as _corral_admin_v1_WatchEventsRequest, WatchEventsRequest__Output as _corral_admin_v1_WatchEventsRequest__Output } from '../../../corral/admin/v1/WatchEventsRequest.ts';

export interface AdminClient extends grpc.Client {
  AckAlerts(argument: _corral_admin_v1_AckAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  AckAlerts(argument: _corral_admin_v1_AckAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  AckAlerts(argument: _corral_admin_v1_AckAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  AckAlerts(argument: _corral_admin_v1_AckAlertsRequest, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  ackAlerts(argument: _corral_admin_v1_AckAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  ackAlerts(argument: _corral_admin_v1_AckAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  ackAlerts(argument: _corral_admin_v1_AckAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  ackAlerts(argument: _corral_admin_v1_AckAlertsRequest, callback: grpc.requestCallback<_corral_admin_v1_AckAlertsResponse__Output>): grpc.ClientUnaryCall;
  
  CaptureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  CaptureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  CaptureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  CaptureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  captureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  captureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  captureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  captureDiagnostics(argument: _corral_admin_v1_CaptureDiagnosticsRequest, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  
  Deploy(argument: _corral_admin_v1_DeployRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  Deploy(argument: _corral_admin_v1_DeployRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  Deploy(argument: _corral_admin_v1_DeployRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  Deploy(argument: _corral_admin_v1_DeployRequest, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  deploy(argument: _corral_admin_v1_DeployRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  deploy(argument: _corral_admin_v1_DeployRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  deploy(argument: _corral_admin_v1_DeployRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  deploy(argument: _corral_admin_v1_DeployRequest, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  
  Describe(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  
  IssueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  IssueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  IssueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  IssueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  issueCertificate(argument: _corral_admin_v1_IssueCertificateRequest, callback: grpc.requestCallback<_corral_admin_v1_IssueCertificateResponse__Output>): grpc.ClientUnaryCall;
  
  ListAlerts(argument: _corral_admin_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _corral_admin_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _corral_admin_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _corral_admin_v1_ListAlertsRequest, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _corral_admin_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _corral_admin_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _corral_admin_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _corral_admin_v1_ListAlertsRequest, callback: grpc.requestCallback<_corral_admin_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  
  ListCertificates(argument: _corral_admin_v1_ListCertificatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  ListCertificates(argument: _corral_admin_v1_ListCertificatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  ListCertificates(argument: _corral_admin_v1_ListCertificatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  ListCertificates(argument: _corral_admin_v1_ListCertificatesRequest, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _corral_admin_v1_ListCertificatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _corral_admin_v1_ListCertificatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _corral_admin_v1_ListCertificatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _corral_admin_v1_ListCertificatesRequest, callback: grpc.requestCallback<_corral_admin_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  
  ListDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  ListDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  ListDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  ListDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  listDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  listDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  listDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  listDiagnostics(argument: _corral_admin_v1_ListDiagnosticsRequest, callback: grpc.requestCallback<_corral_admin_v1_ListDiagnosticsResponse__Output>): grpc.ClientUnaryCall;
  
  ListReleases(argument: _corral_admin_v1_ListReleasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _corral_admin_v1_ListReleasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _corral_admin_v1_ListReleasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  ListReleases(argument: _corral_admin_v1_ListReleasesRequest, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _corral_admin_v1_ListReleasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _corral_admin_v1_ListReleasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _corral_admin_v1_ListReleasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  listReleases(argument: _corral_admin_v1_ListReleasesRequest, callback: grpc.requestCallback<_corral_admin_v1_ListReleasesResponse__Output>): grpc.ClientUnaryCall;
  
  Logs(argument: _corral_admin_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_LogLine__Output>;
  Logs(argument: _corral_admin_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_LogLine__Output>;
  logs(argument: _corral_admin_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_LogLine__Output>;
  logs(argument: _corral_admin_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_LogLine__Output>;
  
  Pause(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Pause(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Pause(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Pause(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  pause(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  pause(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  pause(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  pause(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  
  Reload(argument: _corral_admin_v1_ReloadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  Reload(argument: _corral_admin_v1_ReloadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  Reload(argument: _corral_admin_v1_ReloadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  Reload(argument: _corral_admin_v1_ReloadRequest, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _corral_admin_v1_ReloadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _corral_admin_v1_ReloadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _corral_admin_v1_ReloadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _corral_admin_v1_ReloadRequest, callback: grpc.requestCallback<_corral_admin_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  
  Restart(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Restart(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Restart(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Restart(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  restart(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  restart(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  restart(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  restart(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  
  Resume(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Resume(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Resume(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Resume(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  resume(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  resume(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  resume(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  resume(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  
  RevokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  RevokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  RevokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  RevokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  revokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  revokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  revokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  revokeCertificate(argument: _corral_admin_v1_RevokeCertificateRequest, callback: grpc.requestCallback<_corral_admin_v1_RevokeCertificateResponse__Output>): grpc.ClientUnaryCall;
  
  Rollback(argument: _corral_admin_v1_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _corral_admin_v1_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _corral_admin_v1_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _corral_admin_v1_RollbackRequest, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _corral_admin_v1_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _corral_admin_v1_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _corral_admin_v1_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _corral_admin_v1_RollbackRequest, callback: grpc.requestCallback<_corral_admin_v1_DeployResponse__Output>): grpc.ClientUnaryCall;
  
  RotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  RotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  RotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  RotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  rotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  rotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  rotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  rotateCertificates(argument: _corral_admin_v1_RotateCertificatesRequest, callback: grpc.requestCallback<_corral_admin_v1_RotateCertificatesResponse__Output>): grpc.ClientUnaryCall;
  
  Start(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Start(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Start(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Start(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  start(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  start(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  start(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  start(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _corral_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _corral_admin_v1_StatusRequest, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _corral_admin_v1_StatusRequest, callback: grpc.requestCallback<_corral_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  Stop(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Stop(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Stop(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  Stop(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  stop(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  stop(argument: _corral_admin_v1_PluginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  stop(argument: _corral_admin_v1_PluginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  stop(argument: _corral_admin_v1_PluginRequest, callback: grpc.requestCallback<_corral_admin_v1_PluginStatus__Output>): grpc.ClientUnaryCall;
  
  UnrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  UnrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  UnrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  UnrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  unrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  unrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  unrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  unrevokeIdentity(argument: _corral_admin_v1_UnrevokeIdentityRequest, callback: grpc.requestCallback<_corral_admin_v1_UnrevokeIdentityResponse__Output>): grpc.ClientUnaryCall;
  
  ValidateConfig(argument: _corral_admin_v1_ValidateConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  ValidateConfig(argument: _corral_admin_v1_ValidateConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  ValidateConfig(argument: _corral_admin_v1_ValidateConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  ValidateConfig(argument: _corral_admin_v1_ValidateConfigRequest, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  validateConfig(argument: _corral_admin_v1_ValidateConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  validateConfig(argument: _corral_admin_v1_ValidateConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  validateConfig(argument: _corral_admin_v1_ValidateConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  validateConfig(argument: _corral_admin_v1_ValidateConfigRequest, callback: grpc.requestCallback<_corral_admin_v1_ValidateConfigResponse__Output>): grpc.ClientUnaryCall;
  
  Version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _corral_admin_v1_VersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _corral_admin_v1_VersionRequest, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _corral_admin_v1_VersionRequest, callback: grpc.requestCallback<_corral_admin_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  
  WatchEvents(argument: _corral_admin_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_Event__Output>;
  WatchEvents(argument: _corral_admin_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_Event__Output>;
  watchEvents(argument: _corral_admin_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_Event__Output>;
  watchEvents(argument: _corral_admin_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_corral_admin_v1_Event__Output>;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  AckAlerts: grpc.handleUnaryCall<_corral_admin_v1_AckAlertsRequest__Output, _corral_admin_v1_AckAlertsResponse>;
  
  CaptureDiagnostics: grpc.handleUnaryCall<_corral_admin_v1_CaptureDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse>;
  
  Deploy: grpc.handleUnaryCall<_corral_admin_v1_DeployRequest__Output, _corral_admin_v1_DeployResponse>;
  
  Describe: grpc.handleUnaryCall<_corral_admin_v1_PluginRequest__Output, _corral_admin_v1_DescribeResponse>;
  
  IssueCertificate: grpc.handleUnaryCall<_corral_admin_v1_IssueCertificateRequest__Output, _corral_admin_v1_IssueCertificateResponse>;
  
  ListAlerts: grpc.handleUnaryCall<_corral_admin_v1_ListAlertsRequest__Output, _corral_admin_v1_ListAlertsResponse>;
  
  ListCertificates: grpc.handleUnaryCall<_corral_admin_v1_ListCertificatesRequest__Output, _corral_admin_v1_ListCertificatesResponse>;
  
  ListDiagnostics: grpc.handleUnaryCall<_corral_admin_v1_ListDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse>;
  
  ListReleases: grpc.handleUnaryCall<_corral_admin_v1_ListReleasesRequest__Output, _corral_admin_v1_ListReleasesResponse>;
  
  Logs: grpc.handleServerStreamingCall<_corral_admin_v1_LogsRequest__Output, _corral_admin_v1_LogLine>;
  
  Pause: grpc.handleUnaryCall<_corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus>;
  
  Reload: grpc.handleUnaryCall<_corral_admin_v1_ReloadRequest__Output, _corral_admin_v1_ReloadResponse>;
  
  Restart: grpc.handleUnaryCall<_corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus>;
  
  Resume: grpc.handleUnaryCall<_corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus>;
  
  RevokeCertificate: grpc.handleUnaryCall<_corral_admin_v1_RevokeCertificateRequest__Output, _corral_admin_v1_RevokeCertificateResponse>;
  
  Rollback: grpc.handleUnaryCall<_corral_admin_v1_RollbackRequest__Output, _corral_admin_v1_DeployResponse>;
  
  RotateCertificates: grpc.handleUnaryCall<_corral_admin_v1_RotateCertificatesRequest__Output, _corral_admin_v1_RotateCertificatesResponse>;
  
  Start: grpc.handleUnaryCall<_corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus>;
  
  Status: grpc.handleUnaryCall<_corral_admin_v1_StatusRequest__Output, _corral_admin_v1_StatusResponse>;
  
  Stop: grpc.handleUnaryCall<_corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus>;
  
  UnrevokeIdentity: grpc.handleUnaryCall<_corral_admin_v1_UnrevokeIdentityRequest__Output, _corral_admin_v1_UnrevokeIdentityResponse>;
  
  ValidateConfig: grpc.handleUnaryCall<_corral_admin_v1_ValidateConfigRequest__Output, _corral_admin_v1_ValidateConfigResponse>;
  
  Version: grpc.handleUnaryCall<_corral_admin_v1_VersionRequest__Output, _corral_admin_v1_VersionResponse>;
  
  WatchEvents: grpc.handleServerStreamingCall<_corral_admin_v1_WatchEventsRequest__Output, _corral_admin_v1_Event>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  AckAlerts: MethodDefinition<_corral_admin_v1_AckAlertsRequest, _corral_admin_v1_AckAlertsResponse, _corral_admin_v1_AckAlertsRequest__Output, _corral_admin_v1_AckAlertsResponse__Output>
  CaptureDiagnostics: MethodDefinition<_corral_admin_v1_CaptureDiagnosticsRequest, _corral_admin_v1_ListDiagnosticsResponse, _corral_admin_v1_CaptureDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse__Output>
  Deploy: MethodDefinition<_corral_admin_v1_DeployRequest, _corral_admin_v1_DeployResponse, _corral_admin_v1_DeployRequest__Output, _corral_admin_v1_DeployResponse__Output>
  Describe: MethodDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_DescribeResponse, _corral_admin_v1_PluginRequest__Output, _corral_admin_v1_DescribeResponse__Output>
  IssueCertificate: MethodDefinition<_corral_admin_v1_IssueCertificateRequest, _corral_admin_v1_IssueCertificateResponse, _corral_admin_v1_IssueCertificateRequest__Output, _corral_admin_v1_IssueCertificateResponse__Output>
  ListAlerts: MethodDefinition<_corral_admin_v1_ListAlertsRequest, _corral_admin_v1_ListAlertsResponse, _corral_admin_v1_ListAlertsRequest__Output, _corral_admin_v1_ListAlertsResponse__Output>
  ListCertificates: MethodDefinition<_corral_admin_v1_ListCertificatesRequest, _corral_admin_v1_ListCertificatesResponse, _corral_admin_v1_ListCertificatesRequest__Output, _corral_admin_v1_ListCertificatesResponse__Output>
  ListDiagnostics: MethodDefinition<_corral_admin_v1_ListDiagnosticsRequest, _corral_admin_v1_ListDiagnosticsResponse, _corral_admin_v1_ListDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse__Output>
  ListReleases: MethodDefinition<_corral_admin_v1_ListReleasesRequest, _corral_admin_v1_ListReleasesResponse, _corral_admin_v1_ListReleasesRequest__Output, _corral_admin_v1_ListReleasesResponse__Output>
  Logs: MethodDefinition<_corral_admin_v1_LogsRequest, _corral_admin_v1_LogLine, _corral_admin_v1_LogsRequest__Output, _corral_admin_v1_LogLine__Output>
  Pause: MethodDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_PluginStatus, _corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus__Output>
  Reload: MethodDefinition<_corral_admin_v1_ReloadRequest, _corral_admin_v1_ReloadResponse, _corral_admin_v1_ReloadRequest__Output, _corral_admin_v1_ReloadResponse__Output>
  Restart: MethodDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_PluginStatus, _corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus__Output>
  Resume: MethodDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_PluginStatus, _corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus__Output>
  RevokeCertificate: MethodDefinition<_corral_admin_v1_RevokeCertificateRequest, _corral_admin_v1_RevokeCertificateResponse, _corral_admin_v1_RevokeCertificateRequest__Output, _corral_admin_v1_RevokeCertificateResponse__Output>
  Rollback: MethodDefinition<_corral_admin_v1_RollbackRequest, _corral_admin_v1_DeployResponse, _corral_admin_v1_RollbackRequest__Output, _corral_admin_v1_DeployResponse__Output>
  RotateCertificates: MethodDefinition<_corral_admin_v1_RotateCertificatesRequest, _corral_admin_v1_RotateCertificatesResponse, _corral_admin_v1_RotateCertificatesRequest__Output, _corral_admin_v1_RotateCertificatesResponse__Output>
  Start: MethodDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_PluginStatus, _corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus__Output>
  Status: MethodDefinition<_corral_admin_v1_StatusRequest, _corral_admin_v1_StatusResponse, _corral_admin_v1_StatusRequest__Output, _corral_admin_v1_StatusResponse__Output>
  Stop: MethodDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_PluginStatus, _corral_admin_v1_PluginRequest__Output, _corral_admin_v1_PluginStatus__Output>
  UnrevokeIdentity: MethodDefinition<_corral_admin_v1_UnrevokeIdentityRequest, _corral_admin_v1_UnrevokeIdentityResponse, _corral_admin_v1_UnrevokeIdentityRequest__Output, _corral_admin_v1_UnrevokeIdentityResponse__Output>
  ValidateConfig: MethodDefinition<_corral_admin_v1_ValidateConfigRequest, _corral_admin_v1_ValidateConfigResponse, _corral_admin_v1_ValidateConfigRequest__Output, _corral_admin_v1_ValidateConfigResponse__Output>
  Version: MethodDefinition<_corral_admin_v1_VersionRequest, _corral_admin_v1_VersionResponse, _corral_admin_v1_VersionRequest__Output, _corral_admin_v1_VersionResponse__Output>
  WatchEvents: MethodDefinition<_corral_admin_v1_WatchEventsRequest, _corral_admin_v1_Event, _corral_admin_v1_WatchEventsRequest__Output, _corral_admin_v1_Event__Output>
}
