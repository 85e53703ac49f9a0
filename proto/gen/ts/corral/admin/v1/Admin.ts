// Original file: proto/corral/admin/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AckAlertsRequest as _corral_admin_v1_AckAlertsRequest, AckAlertsRequest__Output as _corral_admin_v1_AckAlertsRequest__Output } from '../../../corral/admin/v1/AckAlertsRequest.ts';
import type { AckAlertsResponse as _corral_admin_v1_AckAlertsResponse, AckAlertsResponse__Output as _corral_admin_v1_AckAlertsResponse__Output } from '../../../corral/admin/v1/AckAlertsResponse.ts';
import type { CaptureDiagnosticsRequest as _corral_admin_v1_CaptureDiagnosticsRequest, CaptureDiagnosticsRequest__Output as _corral_admin_v1_CaptureDiagnosticsRequest__Output } from '../../../corral/admin/v1/CaptureDiagnosticsRequest.ts';
import type { DeployRequest as _corral_admin_v1_DeployRequest, DeployRequest__Output as _corral_admin_v1_DeployRequest__Output } from '../../../corral/admin/v1/DeployRequest.ts';
import type { DeployResponse as _corral_admin_v1_DeployResponse, DeployResponse__Output as _corral_admin_v1_DeployResponse__Output } from '../../../corral/admin/v1/DeployResponse.ts';
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
import type { RevokeCertificateRequest as _corral_admin_v1_RevokeCertificateRequest, RevokeCertificateRequest__Output as _corral_admin_v1_RevokeCertificateRequest__Output } from '../../../corral/admin/v1/RevokeCertificateRequest.ts';
import type { RevokeCertificateResponse as _corral_admin_v1_RevokeCertificateResponse, RevokeCertificateResponse__Output as _corral_admin_v1_RevokeCertificateResponse__Output } from '../../../corral/admin/v1/RevokeCertificateResponse.ts';
import type { RollbackRequest as _corral_admin_v1_RollbackRequest, RollbackRequest__Output as _corral_admin_v1_RollbackRequest__Output } from '../../../corral/admin/v1/RollbackRequest.ts';
import type { RotateCertificatesRequest as _corral_admin_v1_RotateCertificatesRequest, RotateCertificatesRequest__Output as _corral_admin_v1_RotateCertificatesRequest__Output } from '../../../corral/admin/v1/RotateCertificatesRequest.ts';
import type { RotateCertificatesResponse as _corral_admin_v1_RotateCertificatesResponse, RotateCertificatesResponse__Output as _corral_admin_v1_RotateCertificatesResponse__Output } from '../../../corral/admin/v1/RotateCertificatesResponse.ts';
import type { StatusRequest as _corral_admin_v1_StatusRequest, StatusRequest__Output as _corral_admin_v1_StatusRequest__Output } from '../../../corral/admin/v1/StatusRequest.ts';
import type { StatusResponse as _corral_admin_v1_StatusResponse, StatusResponse__Output as _corral_admin_v1_StatusResponse__Output } from '../../../corral/admin/v1/StatusResponse.ts';
import type { VersionRequest as _corral_admin_v1_VersionRequest, VersionRequest__Output as _corral_admin_v1_VersionRequest__Output } from '../../../corral/admin/v1/VersionRequest.ts';
import type { VersionResponse as _corral_admin_v1_VersionResponse, VersionResponse__Output as _corral_admin_v1_VersionResponse__Output } from '../../../corral/admin/v1/VersionResponse.ts';

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
  AckAlerts: grpc.handleUnaryCall<_corral_admin_v1_AckAlertsRequest__Output, _corral_admin_v1_AckAlertsResponse>;
  
  CaptureDiagnostics: grpc.handleUnaryCall<_corral_admin_v1_CaptureDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse>;
  
  Deploy: grpc.handleUnaryCall<_corral_admin_v1_DeployRequest__Output, _corral_admin_v1_DeployResponse>;
  
  IssueCertificate: grpc.handleUnaryCall<_corral_admin_v1_IssueCertificateRequest__Output, _corral_admin_v1_IssueCertificateResponse>;
  
  ListAlerts: grpc.handleUnaryCall<_corral_admin_v1_ListAlertsRequest__Output, _corral_admin_v1_ListAlertsResponse>;
  
  ListCertificates: grpc.handleUnaryCall<_corral_admin_v1_ListCertificatesRequest__Output, _corral_admin_v1_ListCertificatesResponse>;
  
  ListDiagnostics: grpc.handleUnaryCall<_corral_admin_v1_ListDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse>;
  
  ListReleases: grpc.handleUnaryCall<_corral_admin_v1_ListReleasesRequest__Output, _corral_admin_v1_ListReleasesResponse>;
  
  RevokeCertificate: grpc.handleUnaryCall<_corral_admin_v1_RevokeCertificateRequest__Output, _corral_admin_v1_RevokeCertificateResponse>;
  
  Rollback: grpc.handleUnaryCall<_corral_admin_v1_RollbackRequest__Output, _corral_admin_v1_DeployResponse>;
  
  RotateCertificates: grpc.handleUnaryCall<_corral_admin_v1_RotateCertificatesRequest__Output, _corral_admin_v1_RotateCertificatesResponse>;
  
  Status: grpc.handleUnaryCall<_corral_admin_v1_StatusRequest__Output, _corral_admin_v1_StatusResponse>;
  
  Version: grpc.handleUnaryCall<_corral_admin_v1_VersionRequest__Output, _corral_admin_v1_VersionResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  AckAlerts: MethodDefinition<_corral_admin_v1_AckAlertsRequest, _corral_admin_v1_AckAlertsResponse, _corral_admin_v1_AckAlertsRequest__Output, _corral_admin_v1_AckAlertsResponse__Output>
  CaptureDiagnostics: MethodDefinition<_corral_admin_v1_CaptureDiagnosticsRequest, _corral_admin_v1_ListDiagnosticsResponse, _corral_admin_v1_CaptureDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse__Output>
  Deploy: MethodDefinition<_corral_admin_v1_DeployRequest, _corral_admin_v1_DeployResponse, _corral_admin_v1_DeployRequest__Output, _corral_admin_v1_DeployResponse__Output>
  IssueCertificate: MethodDefinition<_corral_admin_v1_IssueCertificateRequest, _corral_admin_v1_IssueCertificateResponse, _corral_admin_v1_IssueCertificateRequest__Output, _corral_admin_v1_IssueCertificateResponse__Output>
  ListAlerts: MethodDefinition<_corral_admin_v1_ListAlertsRequest, _corral_admin_v1_ListAlertsResponse, _corral_admin_v1_ListAlertsRequest__Output, _corral_admin_v1_ListAlertsResponse__Output>
  ListCertificates: MethodDefinition<_corral_admin_v1_ListCertificatesRequest, _corral_admin_v1_ListCertificatesResponse, _corral_admin_v1_ListCertificatesRequest__Output, _corral_admin_v1_ListCertificatesResponse__Output>
  ListDiagnostics: MethodDefinition<_corral_admin_v1_ListDiagnosticsRequest, _corral_admin_v1_ListDiagnosticsResponse, _corral_admin_v1_ListDiagnosticsRequest__Output, _corral_admin_v1_ListDiagnosticsResponse__Output>
  ListReleases: MethodDefinition<_corral_admin_v1_ListReleasesRequest, _corral_admin_v1_ListReleasesResponse, _corral_admin_v1_ListReleasesRequest__Output, _corral_admin_v1_ListReleasesResponse__Output>
  RevokeCertificate: MethodDefinition<_corral_admin_v1_RevokeCertificateRequest, _corral_admin_v1_RevokeCertificateResponse, _corral_admin_v1_RevokeCertificateRequest__Output, _corral_admin_v1_RevokeCertificateResponse__Output>
  Rollback: MethodDefinition<_corral_admin_v1_RollbackRequest, _corral_admin_v1_DeployResponse, _corral_admin_v1_RollbackRequest__Output, _corral_admin_v1_DeployResponse__Output>
  RotateCertificates: MethodDefinition<_corral_admin_v1_RotateCertificatesRequest, _corral_admin_v1_RotateCertificatesResponse, _corral_admin_v1_RotateCertificatesRequest__Output, _corral_admin_v1_RotateCertificatesResponse__Output>
  Status: MethodDefinition<_corral_admin_v1_StatusRequest, _corral_admin_v1_StatusResponse, _corral_admin_v1_StatusRequest__Output, _corral_admin_v1_StatusResponse__Output>
  Version: MethodDefinition<_corral_admin_v1_VersionRequest, _corral_admin_v1_VersionResponse, _corral_admin_v1_VersionRequest__Output, _corral_admin_v1_VersionResponse__Output>
}
