import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AckAlertsRequest as _corral_admin_v1_AckAlertsRequest, AckAlertsRequest__Output as _corral_admin_v1_AckAlertsRequest__Output } from './corral/admin/v1/AckAlertsRequest.ts';
import type { AckAlertsResponse as _corral_admin_v1_AckAlertsResponse, AckAlertsResponse__Output as _corral_admin_v1_AckAlertsResponse__Output } from './corral/admin/v1/AckAlertsResponse.ts';
import type { AdminClient as _corral_admin_v1_AdminClient, AdminDefinition as _corral_admin_v1_AdminDefinition } from './corral/admin/v1/Admin.ts';
import type { Alert as _corral_admin_v1_Alert, Alert__Output as _corral_admin_v1_Alert__Output } from './corral/admin/v1/Alert.ts';
import type { CaptureDiagnosticsRequest as _corral_admin_v1_CaptureDiagnosticsRequest, CaptureDiagnosticsRequest__Output as _corral_admin_v1_CaptureDiagnosticsRequest__Output } from './corral/admin/v1/CaptureDiagnosticsRequest.ts';
import type { Certificate as _corral_admin_v1_Certificate, Certificate__Output as _corral_admin_v1_Certificate__Output } from './corral/admin/v1/Certificate.ts';
import type { DeployRequest as _corral_admin_v1_DeployRequest, DeployRequest__Output as _corral_admin_v1_DeployRequest__Output } from './corral/admin/v1/DeployRequest.ts';
import type { DeployResponse as _corral_admin_v1_DeployResponse, DeployResponse__Output as _corral_admin_v1_DeployResponse__Output } from './corral/admin/v1/DeployResponse.ts';
import type { DescribeResponse as _corral_admin_v1_DescribeResponse, DescribeResponse__Output as _corral_admin_v1_DescribeResponse__Output } from './corral/admin/v1/DescribeResponse.ts';
import type { Diagnostic as _corral_admin_v1_Diagnostic, Diagnostic__Output as _corral_admin_v1_Diagnostic__Output } from './corral/admin/v1/Diagnostic.ts';
import type { Event as _corral_admin_v1_Event, Event__Output as _corral_admin_v1_Event__Output } from './corral/admin/v1/Event.ts';
import type { InstanceStatus as _corral_admin_v1_InstanceStatus, InstanceStatus__Output as _corral_admin_v1_InstanceStatus__Output } from './corral/admin/v1/InstanceStatus.ts';
import type { InstanceUsage as _corral_admin_v1_InstanceUsage, InstanceUsage__Output as _corral_admin_v1_InstanceUsage__Output } from './corral/admin/v1/InstanceUsage.ts';
import type { IssueCertificateRequest as _corral_admin_v1_IssueCertificateRequest, IssueCertificateRequest__Output as _corral_admin_v1_IssueCertificateRequest__Output } from './corral/admin/v1/IssueCertificateRequest.ts';
import type { IssueCertificateResponse as _corral_admin_v1_IssueCertificateResponse, IssueCertificateResponse__Output as _corral_admin_v1_IssueCertificateResponse__Output } from './corral/admin/v1/IssueCertificateResponse.ts';
import type { ListAlertsRequest as _corral_admin_v1_ListAlertsRequest, ListAlertsRequest__Output as _corral_admin_v1_ListAlertsRequest__Output } from './corral/admin/v1/ListAlertsRequest.ts';
import type { ListAlertsResponse as _corral_admin_v1_ListAlertsResponse, ListAlertsResponse__Output as _corral_admin_v1_ListAlertsResponse__Output } from './corral/admin/v1/ListAlertsResponse.ts';
import type { ListCertificatesRequest as _corral_admin_v1_ListCertificatesRequest, ListCertificatesRequest__Output as _corral_admin_v1_ListCertificatesRequest__Output } from './corral/admin/v1/ListCertificatesRequest.ts';
import type { ListCertificatesResponse as _corral_admin_v1_ListCertificatesResponse, ListCertificatesResponse__Output as _corral_admin_v1_ListCertificatesResponse__Output } from './corral/admin/v1/ListCertificatesResponse.ts';
import type { ListDiagnosticsRequest as _corral_admin_v1_ListDiagnosticsRequest, ListDiagnosticsRequest__Output as _corral_admin_v1_ListDiagnosticsRequest__Output } from './corral/admin/v1/ListDiagnosticsRequest.ts';
import type { ListDiagnosticsResponse as _corral_admin_v1_ListDiagnosticsResponse, ListDiagnosticsResponse__Output as _corral_admin_v1_ListDiagnosticsResponse__Output } from './corral/admin/v1/ListDiagnosticsResponse.ts';
import type { ListReleasesRequest as _corral_admin_v1_ListReleasesRequest, ListReleasesRequest__Output as _corral_admin_v1_ListReleasesRequest__Output } from './corral/admin/v1/ListReleasesRequest.ts';
import type { ListReleasesResponse as _corral_admin_v1_ListReleasesResponse, ListReleasesResponse__Output as _corral_admin_v1_ListReleasesResponse__Output } from './corral/admin/v1/ListReleasesResponse.ts';
import type { LogLine as _corral_admin_v1_LogLine, LogLine__Output as _corral_admin_v1_LogLine__Output } from './corral/admin/v1/LogLine.ts';
import type { LogsRequest as _corral_admin_v1_LogsRequest, LogsRequest__Output as _corral_admin_v1_LogsRequest__Output } from './corral/admin/v1/LogsRequest.ts';
import type { PluginRequest as _corral_admin_v1_PluginRequest, PluginRequest__Output as _corral_admin_v1_PluginRequest__Output } from './corral/admin/v1/PluginRequest.ts';
import type { PluginStatus as _corral_admin_v1_PluginStatus, PluginStatus__Output as _corral_admin_v1_PluginStatus__Output } from './corral/admin/v1/PluginStatus.ts';
import type { Release as _corral_admin_v1_Release, Release__Output as _corral_admin_v1_Release__Output } from './corral/admin/v1/Release.ts';
import type { ReloadRequest as _corral_admin_v1_ReloadRequest, ReloadRequest__Output as _corral_admin_v1_ReloadRequest__Output } from './corral/admin/v1/ReloadRequest.ts';
import type { ReloadResponse as _corral_admin_v1_ReloadResponse, ReloadResponse__Output as _corral_admin_v1_ReloadResponse__Output } from './corral/admin/v1/ReloadResponse.ts';
import type { RevokeCertificateRequest as _corral_admin_v1_RevokeCertificateRequest, RevokeCertificateRequest__Output as _corral_admin_v1_RevokeCertificateRequest__Output } from './corral/admin/v1/RevokeCertificateRequest.ts';
import type { RevokeCertificateResponse as _corral_admin_v1_RevokeCertificateResponse, RevokeCertificateResponse__Output as _corral_admin_v1_RevokeCertificateResponse__Output } from './corral/admin/v1/RevokeCertificateResponse.ts';
import type { RollbackRequest as _corral_admin_v1_RollbackRequest, RollbackRequest__Output as _corral_admin_v1_RollbackRequest__Output } from './corral/admin/v1/RollbackRequest.ts';
import type { RotateCertificatesRequest as _corral_admin_v1_RotateCertificatesRequest, RotateCertificatesRequest__Output as _corral_admin_v1_RotateCertificatesRequest__Output } from './corral/admin/v1/RotateCertificatesRequest.ts';
import type { RotateCertificatesResponse as _corral_admin_v1_RotateCertificatesResponse, RotateCertificatesResponse__Output as _corral_admin_v1_RotateCertificatesResponse__Output } from './corral/admin/v1/RotateCertificatesResponse.ts';
import type { StatusRequest as _corral_admin_v1_StatusRequest, StatusRequest__Output as _corral_admin_v1_StatusRequest__Output } from './corral/admin/v1/StatusRequest.ts';
import type { StatusResponse as _corral_admin_v1_StatusResponse, StatusResponse__Output as _corral_admin_v1_StatusResponse__Output } from './corral/admin/v1/StatusResponse.ts';
import type { UnrevokeIdentityRequest as _corral_admin_v1_UnrevokeIdentityRequest, UnrevokeIdentityRequest__Output as _corral_admin_v1_UnrevokeIdentityRequest__Output } from './corral/admin/v1/UnrevokeIdentityRequest.ts';
import type { UnrevokeIdentityResponse as _corral_admin_v1_UnrevokeIdentityResponse, UnrevokeIdentityResponse__Output as _corral_admin_v1_UnrevokeIdentityResponse__Output } from './corral/admin/v1/UnrevokeIdentityResponse.ts';
import type { ValidateConfigRequest as _corral_admin_v1_ValidateConfigRequest, ValidateConfigRequest__Output as _corral_admin_v1_ValidateConfigRequest__Output } from './corral/admin/v1/ValidateConfigRequest.ts';
import type { ValidateConfigResponse as _corral_admin_v1_ValidateConfigResponse, ValidateConfigResponse__Output as _corral_admin_v1_ValidateConfigResponse__Output } from './corral/admin/v1/ValidateConfigResponse.ts';
import type { VersionRequest as _corral_admin_v1_VersionRequest, VersionRequest__Output as _corral_admin_v1_VersionRequest__Output } from './corral/admin/v1/VersionRequest.ts';
import type { VersionResponse as _corral_admin_v1_VersionResponse, VersionResponse__Output as _corral_admin_v1_VersionResponse__Output } from './corral/admin/v1/VersionResponse.ts';
import type { WatchEventsRequest as _corral_admin_v1_WatchEventsRequest, WatchEventsRequest__Output as _corral_admin_v1_WatchEventsRequest__Output } from './corral/admin/v1/WatchEventsRequest.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  corral: {
    admin: {
      v1: {
        AckAlertsRequest: MessageTypeDefinition<_corral_admin_v1_AckAlertsRequest, _corral_admin_v1_AckAlertsRequest__Output>
        AckAlertsResponse: MessageTypeDefinition<_corral_admin_v1_AckAlertsResponse, _corral_admin_v1_AckAlertsResponse__Output>
        Admin: SubtypeConstructor<typeof grpc.Client, _corral_admin_v1_AdminClient> & { service: _corral_admin_v1_AdminDefinition }
        Alert: MessageTypeDefinition<_corral_admin_v1_Alert, _corral_admin_v1_Alert__Output>
        CaptureDiagnosticsRequest: MessageTypeDefinition<_corral_admin_v1_CaptureDiagnosticsRequest, _corral_admin_v1_CaptureDiagnosticsRequest__Output>
        Certificate: MessageTypeDefinition<_corral_admin_v1_Certificate, _corral_admin_v1_Certificate__Output>
        DeployRequest: MessageTypeDefinition<_corral_admin_v1_DeployRequest, _corral_admin_v1_DeployRequest__Output>
        DeployResponse: MessageTypeDefinition<_corral_admin_v1_DeployResponse, _corral_admin_v1_DeployResponse__Output>
        DescribeResponse: MessageTypeDefinition<_corral_admin_v1_DescribeResponse, _corral_admin_v1_DescribeResponse__Output>
        Diagnostic: MessageTypeDefinition<_corral_admin_v1_Diagnostic, _corral_admin_v1_Diagnostic__Output>
        Event: MessageTypeDefinition<_corral_admin_v1_Event, _corral_admin_v1_Event__Output>
        InstanceStatus: MessageTypeDefinition<_corral_admin_v1_InstanceStatus, _corral_admin_v1_InstanceStatus__Output>
        InstanceUsage: MessageTypeDefinition<_corral_admin_v1_InstanceUsage, _corral_admin_v1_InstanceUsage__Output>
        IssueCertificateRequest: MessageTypeDefinition<_corral_admin_v1_IssueCertificateRequest, _corral_admin_v1_IssueCertificateRequest__Output>
        IssueCertificateResponse: MessageTypeDefinition<_corral_admin_v1_IssueCertificateResponse, _corral_admin_v1_IssueCertificateResponse__Output>
        ListAlertsRequest: MessageTypeDefinition<_corral_admin_v1_ListAlertsRequest, _corral_admin_v1_ListAlertsRequest__Output>
        ListAlertsResponse: MessageTypeDefinition<_corral_admin_v1_ListAlertsResponse, _corral_admin_v1_ListAlertsResponse__Output>
        ListCertificatesRequest: MessageTypeDefinition<_corral_admin_v1_ListCertificatesRequest, _corral_admin_v1_ListCertificatesRequest__Output>
        ListCertificatesResponse: MessageTypeDefinition<_corral_admin_v1_ListCertificatesResponse, _corral_admin_v1_ListCertificatesResponse__Output>
        ListDiagnosticsRequest: MessageTypeDefinition<_corral_admin_v1_ListDiagnosticsRequest, _corral_admin_v1_ListDiagnosticsRequest__Output>
        ListDiagnosticsResponse: MessageTypeDefinition<_corral_admin_v1_ListDiagnosticsResponse, _corral_admin_v1_ListDiagnosticsResponse__Output>
        ListReleasesRequest: MessageTypeDefinition<_corral_admin_v1_ListReleasesRequest, _corral_admin_v1_ListReleasesRequest__Output>
        ListReleasesResponse: MessageTypeDefinition<_corral_admin_v1_ListReleasesResponse, _corral_admin_v1_ListReleasesResponse__Output>
        LogLine: MessageTypeDefinition<_corral_admin_v1_LogLine, _corral_admin_v1_LogLine__Output>
        LogsRequest: MessageTypeDefinition<_corral_admin_v1_LogsRequest, _corral_admin_v1_LogsRequest__Output>
        PluginRequest: MessageTypeDefinition<_corral_admin_v1_PluginRequest, _corral_admin_v1_PluginRequest__Output>
        PluginStatus: MessageTypeDefinition<_corral_admin_v1_PluginStatus, _corral_admin_v1_PluginStatus__Output>
        Release: MessageTypeDefinition<_corral_admin_v1_Release, _corral_admin_v1_Release__Output>
        ReloadRequest: MessageTypeDefinition<_corral_admin_v1_ReloadRequest, _corral_admin_v1_ReloadRequest__Output>
        ReloadResponse: MessageTypeDefinition<_corral_admin_v1_ReloadResponse, _corral_admin_v1_ReloadResponse__Output>
        RevokeCertificateRequest: MessageTypeDefinition<_corral_admin_v1_RevokeCertificateRequest, _corral_admin_v1_RevokeCertificateRequest__Output>
        RevokeCertificateResponse: MessageTypeDefinition<_corral_admin_v1_RevokeCertificateResponse, _corral_admin_v1_RevokeCertificateResponse__Output>
        RollbackRequest: MessageTypeDefinition<_corral_admin_v1_RollbackRequest, _corral_admin_v1_RollbackRequest__Output>
        RotateCertificatesRequest: MessageTypeDefinition<_corral_admin_v1_RotateCertificatesRequest, _corral_admin_v1_RotateCertificatesRequest__Output>
        RotateCertificatesResponse: MessageTypeDefinition<_corral_admin_v1_RotateCertificatesResponse, _corral_admin_v1_RotateCertificatesResponse__Output>
        StatusRequest: MessageTypeDefinition<_corral_admin_v1_StatusRequest, _corral_admin_v1_StatusRequest__Output>
        StatusResponse: MessageTypeDefinition<_corral_admin_v1_StatusResponse, _corral_admin_v1_StatusResponse__Output>
        UnrevokeIdentityRequest: MessageTypeDefinition<_corral_admin_v1_UnrevokeIdentityRequest, _corral_admin_v1_UnrevokeIdentityRequest__Output>
        UnrevokeIdentityResponse: MessageTypeDefinition<_corral_admin_v1_UnrevokeIdentityResponse, _corral_admin_v1_UnrevokeIdentityResponse__Output>
        ValidateConfigRequest: MessageTypeDefinition<_corral_admin_v1_ValidateConfigRequest, _corral_admin_v1_ValidateConfigRequest__Output>
        ValidateConfigResponse: MessageTypeDefinition<_corral_admin_v1_ValidateConfigResponse, _corral_admin_v1_ValidateConfigResponse__Output>
        VersionRequest: MessageTypeDefinition<_corral_admin_v1_VersionRequest, _corral_admin_v1_VersionRequest__Output>
        VersionResponse: MessageTypeDefinition<_corral_admin_v1_VersionResponse, _corral_admin_v1_VersionResponse__Output>
        WatchEventsRequest: MessageTypeDefinition<_corral_admin_v1_WatchEventsRequest, _corral_admin_v1_WatchEventsRequest__Output>
      }
    }
  }
}

