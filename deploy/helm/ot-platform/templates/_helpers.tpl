{{/*
Helpers of the OT platform chart. Per-service helpers take a dict:
  (dict "root" $ "name" "intake" "svc" $svc)
built by "ot-platform.svcContext"'s callers in the templates that range over .Values.services.

Two kinds of entries share the templates: the gRPC services (an entry with grpcPort: intake,
experts, consent, feedback), which serve gRPC, verify tokens and use Kafka; and the portal (no
grpcPort), a web front that serves only HTTP, uses no Kafka and calls the services it lists in
`calls`. "ot-platform.svc.grpcServer" tells them apart.
*/}}

{{/* "true" for an entry that serves gRPC (has grpcPort), "" for the portal. */}}
{{- define "ot-platform.svc.grpcServer" -}}
{{- if hasKey .svc "grpcPort" }}true{{ end }}
{{- end }}

{{/* Chart name, truncated to the 63 characters a label value may have. */}}
{{- define "ot-platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-wide object name prefix: "<release>" if it already contains the chart name. */}}
{{- define "ot-platform.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "name-version" of the chart, for the helm.sh/chart label. */}}
{{- define "ot-platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "ot-platform.labels" -}}
helm.sh/chart: {{ include "ot-platform.chart" . }}
{{ include "ot-platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ot-platform
ot-platform.io/tenant: {{ include "ot-platform.tenant" . }}
{{- end }}

{{/* Labels that select every pod of the release (never change them: selectors are immutable). */}}
{{- define "ot-platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ot-platform.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Object name of one service: "<fullname>-<service>". Argument: the per-service dict. */}}
{{- define "ot-platform.svc.fullname" -}}
{{- printf "%s-%s" (include "ot-platform.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of one service's objects. */}}
{{- define "ot-platform.svc.labels" -}}
{{ include "ot-platform.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Selector labels of one service's pods. */}}
{{- define "ot-platform.svc.selectorLabels" -}}
{{ include "ot-platform.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* The area (validated by the schema too; fail early with a readable message). */}}
{{- define "ot-platform.tenant" -}}
{{- required "tenant is required: install with one of deploy/helm/values/<area>.yaml" .Values.tenant }}
{{- end }}

{{/* Kafka topic prefix: topicPrefix or "ot.<tenant>" (the services' own default). */}}
{{- define "ot-platform.topicPrefix" -}}
{{- default (printf "ot.%s" (include "ot-platform.tenant" .)) .Values.topicPrefix }}
{{- end }}

{{/* Service account name. */}}
{{- define "ot-platform.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ot-platform.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference of one service: repository[:tag][@digest]. */}}
{{- define "ot-platform.svc.image" -}}
{{- $img := .svc.image | default dict }}
{{- $repo := $img.repository | default (printf "%s/ot-%s" .root.Values.image.registry .name) }}
{{- $tag := $img.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if $img.digest }}
{{- printf "%s:%s@%s" $repo $tag $img.digest }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* The Secret holding one service's DATABASE_URL. */}}
{{- define "ot-platform.svc.databaseSecretName" -}}
{{- .svc.databaseSecret.name | default (printf "%s-db" (include "ot-platform.svc.fullname" .)) }}
{{- end }}

{{/* Name of the ConfigMap with one service's plain (non-secret) environment. */}}
{{- define "ot-platform.svc.configName" -}}
{{- printf "%s-env" (include "ot-platform.svc.fullname" .) }}
{{- end }}

{{/*
The plain environment of one service, as a YAML map (name: "value"). This is the config
contract with the code: every name here is read by ot_runtime (load_settings), by that service's
own package, or by the OpenTelemetry SDK (OTEL_*); tests/deploy fails on any other name. The
ConfigMap holds it for the Deployment; the migration Job repeats it inline (hooks run before the
ConfigMap exists). Secrets are added by "ot-platform.svc.secretEnv".
*/}}
{{- define "ot-platform.svc.plainEnv" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $server := include "ot-platform.svc.grpcServer" . }}
{{- $tenant := include "ot-platform.tenant" $root }}
{{- $attrs := dict "ot.tenant" $tenant "service.namespace" "ot-platform" "k8s.namespace.name" $root.Release.Namespace "deployment.environment.name" $v.environment "service.version" $root.Chart.AppVersion }}
{{- $attrs = merge $attrs ($v.otel.resourceAttributes | default dict) }}
{{- $pairs := list }}
{{- range $k := keys $attrs | sortAlpha }}
{{- $pairs = append $pairs (printf "%s=%v" $k (get $attrs $k)) }}
{{- end }}
OT_TENANT: {{ $tenant | quote }}
{{- if $server }}
OT_TOPIC_PREFIX: {{ include "ot-platform.topicPrefix" $root | quote }}
GRPC_HOST: "0.0.0.0"
GRPC_PORT: {{ .svc.grpcPort | quote }}
{{- end }}
HTTP_HOST: "0.0.0.0"
HTTP_PORT: {{ .svc.httpPort | quote }}
{{- if $server }}
AUTH_JWT_ISSUER: {{ required "auth.issuer is required" $v.auth.issuer | quote }}
AUTH_JWT_AUDIENCE: {{ required "auth.audience is required" $v.auth.audience | quote }}
AUTH_JWKS_URL: {{ required "auth.jwksUrl is required" $v.auth.jwksUrl | quote }}
AUTH_SERVICE_ISSUER: {{ include "ot-platform.serviceIssuer" $root | quote }}
{{- if $v.auth.service.jwksUrl }}
AUTH_SERVICE_JWKS_URL: {{ $v.auth.service.jwksUrl | quote }}
{{- else }}
AUTH_SERVICE_PUBLIC_KEY_FILE: {{ printf "/var/run/config/ot/service-token/%s" $v.auth.service.publicKeyConfigMap.key | quote }}
{{- end }}
{{- end }}
{{- include "ot-platform.svc.transportEnv" . }}
LOG_LEVEL: {{ $v.logLevel | quote }}
{{- if $server }}
OUTBOX_POLL_SECONDS: {{ $v.outboxPollSeconds | toString | quote }}
{{- end }}
SHUTDOWN_GRACE_SECONDS: {{ $v.shutdownGraceSeconds | toString | quote }}
OTEL_SERVICE_NAME: {{ printf "ot-%s" .name | quote }}
OTEL_TRACES_EXPORTER: {{ $v.otel.tracesExporter | quote }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ $v.otel.endpoint | quote }}
OTEL_TRACES_SAMPLER: {{ $v.otel.sampler | quote }}
OTEL_TRACES_SAMPLER_ARG: {{ $v.otel.samplerArg | toString | quote }}
OTEL_RESOURCE_ATTRIBUTES: {{ join "," $pairs | quote }}
{{- include "ot-platform.svc.areaEnv" . }}
{{- range $callee := .svc.calls }}
{{- $c := get $v.services $callee }}
{{- if not $c }}{{ fail (printf "services.%s.calls names %q, which is not in services" $.name $callee) }}{{ end }}
{{ printf "OT_%s_GRPC_TARGET" (upper $callee) }}: {{ printf "%s:%v" (include "ot-platform.svc.fullname" (dict "root" $root "name" $callee)) $c.grpcPort | quote }}
{{- end }}
{{- range .svc.secretFiles }}
{{ .env }}: {{ printf "/var/run/secrets/ot/%s/%s" (.env | lower | replace "_" "-") .key | quote }}
{{- end }}
{{- range $k, $val := .svc.extraEnv }}
{{ $k }}: {{ $val | toString | quote }}
{{- end }}
{{- include "ot-platform.svc.portalLink" . }}
{{- end }}

{{/*
Feedback's notifications link to the portal (OT_PORTAL_URL): with the portal in the release, its
services.portal.publicUrl, so the two never disagree. Rendered last, where the area files' own
feedback extraEnv OT_PORTAL_URL stood before the portal was in the chart.
*/}}
{{- define "ot-platform.svc.portalLink" -}}
{{- $portal := get .root.Values.services "portal" | default dict }}
{{- if and (eq .name "feedback") $portal.enabled }}
{{- if hasKey (.svc.extraEnv | default dict) "OT_PORTAL_URL" }}
{{- fail "services.feedback.extraEnv.OT_PORTAL_URL must not be set while the portal is enabled: feedback links to services.portal.publicUrl" }}
{{- end }}
OT_PORTAL_URL: {{ include "ot-platform.portal.publicUrl" .root | quote }}
{{- end }}
{{- end }}

{{/* The portal's https address (services.portal.publicUrl, no trailing slash). */}}
{{- define "ot-platform.portal.publicUrl" -}}
{{- required "services.portal.publicUrl is required when the portal is enabled: the https address people open, e.g. https://ot.pohjois-savo.example.fi" (get .Values.services "portal").publicUrl | trimSuffix "/" }}
{{- end }}

{{/*
The area's policies, each rendered only into the service whose code reads it (an OT_* name in
another service's environment would be a setting nobody reads):
  portal    its address and sign-in client (ot_portal.settings: OT_PORTAL_PUBLIC_URL, OT_OIDC_ISSUER
            = auth.issuer, OT_OIDC_CLIENT_ID, OT_PORTAL_TRUSTED_PROXIES); not area policy, but read
            only by the portal like the rest
  consent   the retention defaults per request type: OT_RETENTION_<TYPE>_GRACE_DAYS and _MAX_DAYS,
            TYPE in OT_TUKI, GROUP_CONSULTATION, EXPERT_REINFORCEMENT (ot_consent.domain.policies_from_env)
  feedback  when feedback requests are sent, reminded and closed (ot_feedback.domain.FollowUpPolicy:
            OT_FEEDBACK_DELAY_DAYS and, per type set, OT_FEEDBACK_DELAY_DAYS_<TYPE>,
            OT_FEEDBACK_REMINDER_DAYS, OT_FEEDBACK_ANSWER_DAYS), and how they go out
            (ot_feedback.bootstrap.FeedbackConfig: OT_FEEDBACK_PUBLIC_URL, OT_FEEDBACK_MAIL_FROM,
            OT_SMTP_HOST, OT_SMTP_PORT, OT_SMTP_STARTTLS, OT_SMTP_USERNAME), and the cooperation
            area's statistics (ot_feedback.aggregate.CooperationConfig: OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA,
            OT_FEEDBACK_COORDINATING_AREA, OT_FEEDBACK_AREA_AGGREGATE_KEYS)
  experts   the area's own agreement on using the OT network's experts: OT_AGREEMENT_KIND,
            OT_AGREEMENT_SIGNED, OT_AGREEMENT_EXPERT_IDS (ot_experts.catalogue.agreement_from_env;
            applied by `ot-experts seed` in the migration Job, over the catalogue dataset's default)
*/}}
{{- define "ot-platform.svc.areaEnv" -}}
{{- $area := .root.Values.area }}
{{- if eq .name "consent" }}
{{- $r := $area.retention.caseContent }}
OT_RETENTION_OT_TUKI_GRACE_DAYS: {{ $r.otTuki.graceDays | toString | quote }}
OT_RETENTION_OT_TUKI_MAX_DAYS: {{ $r.otTuki.maxDays | toString | quote }}
OT_RETENTION_GROUP_CONSULTATION_GRACE_DAYS: {{ $r.groupConsultation.graceDays | toString | quote }}
OT_RETENTION_GROUP_CONSULTATION_MAX_DAYS: {{ $r.groupConsultation.maxDays | toString | quote }}
OT_RETENTION_EXPERT_REINFORCEMENT_GRACE_DAYS: {{ $r.expertReinforcement.graceDays | toString | quote }}
OT_RETENTION_EXPERT_REINFORCEMENT_MAX_DAYS: {{ $r.expertReinforcement.maxDays | toString | quote }}
{{- /* The privacy notice's area values (ot_consent.notice.NoticeArea.from_env): the area is the
       controller of its release; consent refuses to start without them off loopback. */}}
{{- $n := $area.privacyNotice }}
OT_NOTICE_LANGUAGES: {{ join "," $n.languages | quote }}
OT_NOTICE_CONTROLLER_NAME: {{ required "area.privacyNotice.controller.name is required: the controller of the area's release (its privacy notice)" $n.controller.name | quote }}
{{- with $n.controller.nameEn }}
OT_NOTICE_CONTROLLER_NAME_EN: {{ . | quote }}
{{- end }}
{{- with $n.controller.nameSv }}
OT_NOTICE_CONTROLLER_NAME_SV: {{ . | quote }}
{{- end }}
OT_NOTICE_CONTROLLER_ADDRESS: {{ required "area.privacyNotice.controller.address is required (the registry office's address)" $n.controller.address | quote }}
OT_NOTICE_CONTROLLER_EMAIL: {{ required "area.privacyNotice.controller.email is required (the registry office's e-mail)" $n.controller.email | quote }}
OT_NOTICE_CONTROLLER_PHONE: {{ required "area.privacyNotice.controller.phone is required (the registry office's phone)" $n.controller.phone | quote }}
OT_NOTICE_DPO_EMAIL: {{ required "area.privacyNotice.dataProtectionOfficer.email is required" $n.dataProtectionOfficer.email | quote }}
{{- with $n.dataProtectionOfficer.phone }}
OT_NOTICE_DPO_PHONE: {{ . | quote }}
{{- end }}
{{- with $n.dataProtectionOfficer.address }}
OT_NOTICE_DPO_ADDRESS: {{ . | quote }}
{{- end }}
OT_NOTICE_PROCESSORS: {{ $n.processors | toJson | quote }}
{{- $portal := get .root.Values.services "portal" }}
{{- if and $portal $portal.enabled }}
OT_PORTAL_URL: {{ include "ot-platform.portal.publicUrl" .root | quote }}
{{- end }}
{{- else if eq .name "experts" }}
{{- with $area.agreement }}
{{- if .kind }}
OT_AGREEMENT_KIND: {{ .kind | quote }}
OT_AGREEMENT_SIGNED: {{ .signed | quote }}
OT_AGREEMENT_EXPERT_IDS: {{ join "," .expertIds | quote }}
{{- end }}
{{- end }}
{{- else if eq .name "feedback" }}
{{- $f := $area.feedback }}
{{- if ge (int $f.reminderDays) (int $f.answerDays) }}
{{- fail (printf "area.feedback.reminderDays (%v) must be less than answerDays (%v): the reminder must come while the link still works" $f.reminderDays $f.answerDays) }}
{{- end }}
OT_FEEDBACK_DELAY_DAYS: {{ $f.delayDays | toString | quote }}
{{- /* The code reads f"OT_FEEDBACK_DELAY_DAYS_{type.value.upper()}" for each RequestType. */}}
{{- range $key, $type := dict "otTuki" "OT_TUKI" "groupConsultation" "GROUP_CONSULTATION" "expertReinforcement" "EXPERT_REINFORCEMENT" }}
{{- if hasKey ($f.delayDaysByType | default dict) $key }}
{{ printf "OT_FEEDBACK_DELAY_DAYS_%s" $type }}: {{ get $f.delayDaysByType $key | toString | quote }}
{{- end }}
{{- end }}
OT_FEEDBACK_REMINDER_DAYS: {{ $f.reminderDays | toString | quote }}
OT_FEEDBACK_ANSWER_DAYS: {{ $f.answerDays | toString | quote }}
{{- /* The mailed answer link opens the portal's form when the portal is in the release; feedback's
       own address (area.feedback.publicUrl) then only redirects links mailed before. */}}
{{- $portal := get .root.Values.services "portal" }}
{{- if and $portal $portal.enabled }}
OT_FEEDBACK_PUBLIC_URL: {{ include "ot-platform.portal.publicUrl" .root | quote }}
{{- else }}
OT_FEEDBACK_PUBLIC_URL: {{ required "area.feedback.publicUrl is required when feedback is enabled without the portal: the https address of its pages, the base of every mailed link" $f.publicUrl | trimSuffix "/" | quote }}
{{- end }}
OT_FEEDBACK_MAIL_FROM: {{ required "area.feedback.mailFrom is required when feedback is enabled: the sender of its mails" $f.mailFrom | quote }}
OT_SMTP_HOST: {{ required "area.feedback.smtp.host is required when feedback is enabled: the area's mail relay" $f.smtp.host | quote }}
OT_SMTP_PORT: {{ $f.smtp.port | toString | quote }}
OT_SMTP_STARTTLS: {{ $f.smtp.starttls | toString | quote }}
OT_SMTP_USERNAME: {{ $f.smtp.username | quote }}
{{- /* The cooperation area's statistics (ot_feedback.aggregate.CooperationConfig.from_env). */}}
{{- $st := $area.statistics }}
OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA: {{ $st.shareWithCooperationArea | toString | quote }}
{{- if $st.coordinating }}
{{- if not $st.areaKeys }}
{{- fail "area.statistics.areaKeys is required when area.statistics.coordinating: the other areas' public keys (null for an area that opted out)" }}
{{- end }}
{{- if hasKey $st.areaKeys .root.Values.tenant }}
{{- fail "area.statistics.areaKeys must not name the area itself: its own counts are read from its database" }}
{{- end }}
OT_FEEDBACK_COORDINATING_AREA: "true"
OT_FEEDBACK_AREA_AGGREGATE_KEYS: {{ $st.areaKeys | toJson | quote }}
{{- end }}
{{- else if eq .name "portal" }}
{{- /* The portal's own settings (ot_portal.settings): where people reach it and how it signs them in
at the provider the services verify (the same issuer, so the tokens it gets are the ones they accept). */}}
OT_PORTAL_PUBLIC_URL: {{ include "ot-platform.portal.publicUrl" .root | quote }}
OT_OIDC_ISSUER: {{ required "auth.issuer is required" .root.Values.auth.issuer | trimSuffix "/" | quote }}
OT_OIDC_CLIENT_ID: {{ .svc.oidcClientId | quote }}
OT_PORTAL_TRUSTED_PROXIES: {{ .svc.trustedProxies | toString | quote }}
{{- end }}
{{- end }}

{{/* The secret environment of one service: references to existing Secrets, never values. */}}
{{- define "ot-platform.svc.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "ot-platform.svc.databaseSecretName" . }}
      key: {{ .svc.databaseSecret.key }}
{{- if include "ot-platform.svc.grpcServer" . }}
- name: KAFKA_BOOTSTRAP_SERVERS
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.kafka.bootstrapSecret.name }}
      key: {{ .root.Values.kafka.bootstrapSecret.key }}
{{- if eq .root.Values.kafka.securityProtocol "SASL_SSL" }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "ot-platform.svc.kafkaPasswordSecretName" . }}
      key: {{ .svc.kafkaUser.passwordSecret.key }}
{{- end }}
{{- end }}
{{- $default := printf "%s-secrets" (include "ot-platform.svc.fullname" .) }}
{{- range $env, $ref := .svc.secretEnv }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name | default $default }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}

{{/* Restricted container security context (Pod Security Standard "restricted"). */}}
{{- define "ot-platform.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod security context. */}}
{{- define "ot-platform.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.pod.runAsUser }}
runAsGroup: {{ .Values.pod.runAsGroup }}
fsGroup: {{ .Values.pod.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The writable /tmp of a read-only root filesystem: volume and mount. */}}
{{- define "ot-platform.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.pod.tmpSizeLimit }}
{{- end }}
{{- define "ot-platform.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Volumes and mounts of one service's secretFiles (read-only, one directory per file). */}}
{{- define "ot-platform.svc.secretVolumes" -}}
{{- $default := printf "%s-secrets" (include "ot-platform.svc.fullname" .) }}
{{- range .svc.secretFiles }}
- name: {{ printf "sf-%s" (.env | lower | replace "_" "-") | trunc 63 | trimSuffix "-" }}
  secret:
    secretName: {{ .secretName | default $default }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: {{ .key }}
{{- end }}
{{- end }}
{{- define "ot-platform.svc.secretMounts" -}}
{{- range .svc.secretFiles }}
- name: {{ printf "sf-%s" (.env | lower | replace "_" "-") | trunc 63 | trimSuffix "-" }}
  mountPath: {{ printf "/var/run/secrets/ot/%s" (.env | lower | replace "_" "-") }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Image pull secrets block (empty when none). */}}
{{- define "ot-platform.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Topics of one service: its events and its dead letters. */}}
{{- define "ot-platform.svc.topics" -}}
{{- $prefix := include "ot-platform.topicPrefix" .root -}}
- {{ printf "%s.%s.v1" $prefix .name }}
- {{ printf "%s.%s.dlt.v1" $prefix .name }}
{{- end }}

{{/*
Every topic the release declares, as a YAML list of {name, retentionMs, compacted}: each enabled
gRPC service's topic and DLT (the portal has none), the topics they consume (so a consumer may
start before its producer is deployed) and the compacted catalogue when enabled.
*/}}
{{- define "ot-platform.allTopics" -}}
{{- $root := . }}
{{- $prefix := include "ot-platform.topicPrefix" . }}
{{- $day := 86400000 }}
{{- $events := mul $day (int .Values.area.retention.eventDays) }}
{{- $dead := mul $day (int .Values.area.retention.deadLetterDays) }}
{{- $names := dict }}
{{- range $name, $svc := .Values.services }}
{{- if and $svc.enabled (hasKey $svc "grpcPort") }}
{{- $_ := set $names (printf "%s.%s.v1" $prefix $name) (dict "retentionMs" $events "compacted" false) }}
{{- $_ := set $names (printf "%s.%s.dlt.v1" $prefix $name) (dict "retentionMs" $dead "compacted" false) }}
{{- range $svc.consumes }}
{{- $_ := set $names (printf "%s.%s.v1" $prefix .) (dict "retentionMs" $events "compacted" false) }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.kafka.topics.catalogue.enabled }}
{{- $_ := set $names .Values.kafka.topics.catalogue.name (dict "retentionMs" -1 "compacted" true) }}
{{- end }}
{{- range $n := keys $names | sortAlpha }}
{{- $t := get $names $n }}
- name: {{ $n }}
  retentionMs: {{ $t.retentionMs }}
  compacted: {{ $t.compacted }}
{{- end }}
{{- end }}

{{/* Issuer of the platform services' own tokens: auth.service.issuer or "urn:ot-platform:<tenant>:services". */}}
{{- define "ot-platform.serviceIssuer" -}}
{{- $issuer := .Values.auth.service.issuer | default (printf "urn:ot-platform:%s:services" (include "ot-platform.tenant" .)) }}
{{- if eq $issuer .Values.auth.issuer }}
{{- fail "auth.service.issuer must differ from auth.issuer: service tokens are kept apart from people's" }}
{{- end }}
{{- $issuer }}
{{- end }}

{{/* The ConfigMap with the services' public key (auth.service.publicKeyConfigMap). */}}
{{- define "ot-platform.serviceKeyConfigMapName" -}}
{{- .Values.auth.service.publicKeyConfigMap.name | default (printf "%s-service-token" (include "ot-platform.fullname" .)) }}
{{- end }}

{{/* The Secret with one service's gRPC certificate, key and the area's CA. For the portal, which
serves no gRPC, the Secret it reads only the area's CA (ca.crt) from: by default the first callee's. */}}
{{- define "ot-platform.svc.grpcTlsSecretName" -}}
{{- if include "ot-platform.svc.grpcServer" . }}
{{- .svc.grpcTlsSecret | default (printf "%s-grpc-tls" (include "ot-platform.svc.fullname" .)) }}
{{- else }}
{{- $callee := required (printf "services.%s.calls must name the services it calls" .name) (first (.svc.calls | default list)) }}
{{- .svc.grpcTlsSecret | default (include "ot-platform.svc.grpcTlsSecretName" (dict "root" .root "name" $callee "svc" (get .root.Values.services $callee))) }}
{{- end }}
{{- end }}

{{/* One service's Kafka (SCRAM) user: the KafkaUser's name with Strimzi. */}}
{{- define "ot-platform.svc.kafkaUserName" -}}
{{- .svc.kafkaUser.name | default (include "ot-platform.svc.fullname" .) }}
{{- end }}

{{/* The Secret with one service's Kafka password: "<user name>-kafka" unless named (not the user's
own name: that one is the Secret Strimzi's User Operator writes for its KafkaUser). */}}
{{- define "ot-platform.svc.kafkaPasswordSecretName" -}}
{{- .svc.kafkaUser.passwordSecret.name | default (printf "%s-kafka" (include "ot-platform.svc.kafkaUserName" .)) }}
{{- end }}

{{/* The consumer group of one service (ot_runtime.service.wire: "<topic prefix>.<service>"). */}}
{{- define "ot-platform.svc.consumerGroup" -}}
{{- printf "%s.%s" (include "ot-platform.topicPrefix" .root) .name }}
{{- end }}

{{/*
How one service connects (the config contract with ot_runtime.settings): gRPC TLS files from its
grpcTlsSecret, Kafka's security protocol, the brokers' CA file and its SCRAM user. The files are
mounted by "ot-platform.svc.transportVolumes"; the Kafka password is in "ot-platform.svc.secretEnv".
*/}}
{{- define "ot-platform.svc.transportEnv" -}}
{{- $v := .root.Values }}
{{- $server := include "ot-platform.svc.grpcServer" . }}
{{- if $v.grpcTls.enabled }}
{{- if $server }}
GRPC_TLS_CERT_FILE: "/var/run/secrets/ot/grpc-tls/tls.crt"
GRPC_TLS_KEY_FILE: "/var/run/secrets/ot/grpc-tls/tls.key"
{{- end }}
GRPC_TLS_CA_FILE: "/var/run/secrets/ot/grpc-tls/ca.crt"
{{- end }}
{{- if $server }}
KAFKA_SECURITY_PROTOCOL: {{ $v.kafka.securityProtocol | quote }}
{{- if ne $v.kafka.securityProtocol "PLAINTEXT" }}
KAFKA_SSL_CA_FILE: {{ printf "/var/run/secrets/ot/kafka-ca/%s" $v.kafka.caSecret.key | quote }}
{{- end }}
{{- if eq $v.kafka.securityProtocol "SASL_SSL" }}
KAFKA_SASL_MECHANISM: {{ $v.kafka.saslMechanism | quote }}
KAFKA_SASL_USERNAME: {{ include "ot-platform.svc.kafkaUserName" . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes and mounts of one service's transport files: its gRPC certificate, the brokers' CA,
the services' public key. Read-only; the Deployment and the migration Job mount the same (the
settings check at start that each named file exists). */}}
{{- define "ot-platform.svc.transportVolumes" -}}
{{- $v := .root.Values }}
{{- $server := include "ot-platform.svc.grpcServer" . }}
{{- if $v.grpcTls.enabled }}
- name: grpc-tls
  secret:
    secretName: {{ include "ot-platform.svc.grpcTlsSecretName" . }}
    defaultMode: 0440
    items:
      {{- if $server }}
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      {{- end }}
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- if and $server (ne $v.kafka.securityProtocol "PLAINTEXT") }}
- name: kafka-ca
  secret:
    secretName: {{ $v.kafka.caSecret.name }}
    defaultMode: 0440
    items:
      - {key: {{ $v.kafka.caSecret.key }}, path: {{ $v.kafka.caSecret.key }}}
{{- end }}
{{- if and $server (not $v.auth.service.jwksUrl) }}
- name: service-token-key
  configMap:
    name: {{ include "ot-platform.serviceKeyConfigMapName" .root }}
    defaultMode: 0444
    items:
      - {key: {{ $v.auth.service.publicKeyConfigMap.key }}, path: {{ $v.auth.service.publicKeyConfigMap.key }}}
{{- end }}
{{- end }}
{{- define "ot-platform.svc.transportMounts" -}}
{{- $v := .root.Values }}
{{- $server := include "ot-platform.svc.grpcServer" . }}
{{- if $v.grpcTls.enabled }}
- name: grpc-tls
  mountPath: /var/run/secrets/ot/grpc-tls
  readOnly: true
{{- end }}
{{- if and $server (ne $v.kafka.securityProtocol "PLAINTEXT") }}
- name: kafka-ca
  mountPath: /var/run/secrets/ot/kafka-ca
  readOnly: true
{{- end }}
{{- if and $server (not $v.auth.service.jwksUrl) }}
- name: service-token-key
  mountPath: /var/run/config/ot/service-token
  readOnly: true
{{- end }}
{{- end }}
