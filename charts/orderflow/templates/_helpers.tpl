{{/* Names, labels, the image reference and the environment every Orderflow container shares. */}}

{{- define "orderflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's prefix for every object. A release named like the chart is not repeated
(`orderflow`, not `orderflow-orderflow`), so `helm install orderflow` gives the Deployment names
that k8s/examples/*.yaml point at. Kept at 40 characters so `<fullname>-worker-complete` and the
StatefulSets' pod names stay within Kubernetes' 63-character limit.
*/}}
{{- define "orderflow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "orderflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release (a Deployment's selector is immutable). */}}
{{- define "orderflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orderflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "orderflow.labels" -}}
helm.sh/chart: {{ include "orderflow.chart" . }}
{{ include "orderflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orderflow
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one role's objects. Call with (dict "ctx" $ "component" "api"). */}}
{{- define "orderflow.componentLabels" -}}
{{ include "orderflow.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "orderflow.componentSelectorLabels" -}}
{{ include "orderflow.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "orderflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "orderflow.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "orderflow.operatorName" -}}
{{- printf "%s-operator" (include "orderflow.fullname" .) }}
{{- end }}

{{- define "orderflow.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "orderflow.secretName" -}}
{{- default (include "orderflow.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "orderflow.postgresqlHost" -}}
{{- printf "%s-postgresql" (include "orderflow.fullname" .) }}
{{- end }}

{{- define "orderflow.rabbitmqHost" -}}
{{- printf "%s-rabbitmq" (include "orderflow.fullname" .) }}
{{- end }}

{{- define "orderflow.kafkaClusterName" -}}
{{- default (printf "%s-kafka" (include "orderflow.fullname" .)) .Values.kafka.strimzi.clusterName }}
{{- end }}

{{- define "orderflow.kafkaKraftHost" -}}
{{- printf "%s-kafka" (include "orderflow.fullname" .) }}
{{- end }}

{{/* Each connection setting comes from its value, else from the in-chart service, else rendering stops. */}}
{{- define "orderflow.databaseUrl" -}}
{{- if .Values.secrets.databaseUrl }}
{{- .Values.secrets.databaseUrl }}
{{- else if .Values.postgresql.enabled }}
{{- $a := .Values.postgresql.auth }}
{{- printf "postgresql://%s:%s@%s:5432/%s" (urlquery $a.username) (urlquery $a.password) (include "orderflow.postgresqlHost" .) $a.database }}
{{- else }}
{{- fail "set secrets.databaseUrl, secrets.existingSecret or postgresql.enabled=true" }}
{{- end }}
{{- end }}

{{- define "orderflow.rabbitmqUrl" -}}
{{- if .Values.secrets.rabbitmqUrl }}
{{- .Values.secrets.rabbitmqUrl }}
{{- else if .Values.rabbitmq.enabled }}
{{- $a := .Values.rabbitmq.auth }}
{{- printf "amqp://%s:%s@%s:5672" (urlquery $a.username) (urlquery $a.password) (include "orderflow.rabbitmqHost" .) }}
{{- else }}
{{- fail "set secrets.rabbitmqUrl, secrets.existingSecret or rabbitmq.enabled=true" }}
{{- end }}
{{- end }}

{{- define "orderflow.rabbitmqManagementUrl" -}}
{{- if .Values.secrets.rabbitmqManagementUrl }}
{{- .Values.secrets.rabbitmqManagementUrl }}
{{- else if .Values.rabbitmq.enabled }}
{{- $a := .Values.rabbitmq.auth }}
{{- printf "http://%s:%s@%s:15672" (urlquery $a.username) (urlquery $a.password) (include "orderflow.rabbitmqHost" .) }}
{{- else }}
{{- fail "set secrets.rabbitmqManagementUrl, secrets.existingSecret or rabbitmq.enabled=true" }}
{{- end }}
{{- end }}

{{/* KAFKA_BROKERS from the one Kafka mode in effect; two at once would leave the other unused. */}}
{{- define "orderflow.kafkaBrokers" -}}
{{- $k := .Values.kafka }}
{{- $modes := 0 }}
{{- range $on := list $k.strimzi.enabled $k.kraft.enabled (ne $k.bootstrapServers "") }}
{{- if $on }}{{ $modes = add1 $modes }}{{ end }}
{{- end }}
{{- if ne $modes 1 }}
{{- fail "set exactly one of kafka.bootstrapServers, kafka.strimzi.enabled=true and kafka.kraft.enabled=true (kafka.strimzi.enabled is true by default: set it to false for the others)" }}
{{- end }}
{{- if $k.strimzi.enabled }}
{{- printf "%s-kafka-bootstrap:9092" (include "orderflow.kafkaClusterName" .) }}
{{- else if $k.kraft.enabled }}
{{- printf "%s:9092" (include "orderflow.kafkaKraftHost" .) }}
{{- else }}
{{- $k.bootstrapServers }}
{{- end }}
{{- end }}

{{/* Partitions of orderflow.order-events: the topic's own when the chart runs Kafka, so the relay
creates it the same way if it gets there first. */}}
{{- define "orderflow.topicPartitions" -}}
{{- if .Values.kafka.strimzi.enabled }}
{{- .Values.kafka.strimzi.topic.partitions | int }}
{{- else if .Values.kafka.kraft.enabled }}
{{- .Values.kafka.kraft.topic.partitions | int }}
{{- else }}
{{- .Values.config.kafkaTopicPartitions | int }}
{{- end }}
{{- end }}

{{/*
JWT_SECRET: the value, else the one already in the release's Secret (so an upgrade does not sign
everyone out), else a new random one. The result is remembered for the rest of the render because
the migration hook's Secret must carry the same value as the main one.
*/}}
{{- define "orderflow.jwtSecret" -}}
{{- if not (hasKey .Values.secrets "generatedJwtSecret") }}
{{- $value := .Values.secrets.jwtSecret }}
{{- if not $value }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "orderflow.fullname" .) }}
{{- if and $existing $existing.data (hasKey $existing.data "JWT_SECRET") }}
{{- $value = index $existing.data "JWT_SECRET" | b64dec }}
{{- else }}
{{- $value = randAlphaNum 48 }}
{{- end }}
{{- end }}
{{- $_ := set .Values.secrets "generatedJwtSecret" $value }}
{{- end }}
{{- .Values.secrets.generatedJwtSecret }}
{{- end }}

{{/* The Secret's data, shared by the release Secret and the migration hook's Secret. */}}
{{- define "orderflow.secretData" -}}
DATABASE_URL: {{ include "orderflow.databaseUrl" . | b64enc | quote }}
RABBITMQ_URL: {{ include "orderflow.rabbitmqUrl" . | b64enc | quote }}
RABBITMQ_MANAGEMENT_URL: {{ include "orderflow.rabbitmqManagementUrl" . | b64enc | quote }}
JWT_SECRET: {{ include "orderflow.jwtSecret" . | b64enc | quote }}
{{- end }}

{{/* Rolls the pods when the chart's Secret changes (an existing Secret is the owner's to roll). */}}
{{- define "orderflow.secretChecksum" -}}
{{- if not .Values.secrets.existingSecret -}}
checksum/secret: {{ include "orderflow.secretData" . | sha256sum }}
{{- end }}
{{- end }}

{{/*
The environment of every Orderflow container (lib/config.ts reads nothing else). Call with
(dict "ctx" $ "port" 8080 "secret" "<name>"). HOST is 0.0.0.0 because the processes bind loopback
by default, which no probe or Service could reach.
*/}}
{{- define "orderflow.env" -}}
{{- $v := .ctx.Values }}
{{- $c := $v.config -}}
- name: HOST
  value: 0.0.0.0
- name: PORT
  value: {{ .port | quote }}
- name: NODE_ENV
  value: {{ $c.nodeEnv | quote }}
- name: LOG_LEVEL
  value: {{ $c.logLevel | quote }}
- name: KAFKA_BROKERS
  value: {{ include "orderflow.kafkaBrokers" .ctx | quote }}
{{- range $key := list "DATABASE_URL" "RABBITMQ_URL" "RABBITMQ_MANAGEMENT_URL" "JWT_SECRET" }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $.secret }}
      key: {{ $key }}
{{- end }}
{{- $names := dict
  "databasePoolSize" "DATABASE_POOL_SIZE"
  "kafkaClientId" "KAFKA_CLIENT_ID"
  "kafkaTopicPartitions" "KAFKA_TOPIC_PARTITIONS"
  "jwtIssuer" "JWT_ISSUER"
  "jwtAudience" "JWT_AUDIENCE"
  "jwtTtlSeconds" "JWT_TTL_SECONDS"
  "loginMaxFailures" "LOGIN_MAX_FAILURES"
  "loginWindowSeconds" "LOGIN_WINDOW_SECONDS"
  "httpBodyLimitBytes" "HTTP_BODY_LIMIT_BYTES"
  "shutdownTimeoutMs" "SHUTDOWN_TIMEOUT_MS"
  "relayBatchSize" "RELAY_BATCH_SIZE"
  "relayPollMs" "RELAY_POLL_MS"
  "outboxRetentionHours" "OUTBOX_RETENTION_HOURS"
  "dispatcherConcurrency" "DISPATCHER_CONCURRENCY"
  "workerPrefetch" "WORKER_PREFETCH"
  "workerBatchSize" "WORKER_BATCH_SIZE"
  "batchLingerMs" "BATCH_LINGER_MS"
  "workerMaxAttempts" "WORKER_MAX_ATTEMPTS"
  "paymentLatencyMs" "PAYMENT_LATENCY_MS"
  "paymentDeclineRate" "PAYMENT_DECLINE_RATE"
  "stageLatencyMs" "STAGE_LATENCY_MS" }}
{{- range $key := keys $names | sortAlpha }}
{{- $value := index $c $key }}
{{- if eq $key "kafkaTopicPartitions" }}
{{- $value = include "orderflow.topicPartitions" $.ctx }}
{{- end }}
{{- /* YAML numbers arrive as float64, which would print 1048576 as 1.048576e+06. */}}
{{- if and (kindIs "float64" $value) (eq $value (float64 (int64 $value))) }}
{{- $value = int64 $value }}
{{- end }}
- name: {{ index $names $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-level fields every Orderflow pod shares. */}}
{{- define "orderflow.podSpecCommon" -}}
# No docker-link style variables (ORDERFLOW_API_PORT=tcp://...): lib/config.ts refuses ORDERFLOW_*
# names it does not know, and the processes find their peers by DNS.
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Liveness and readiness on a named port. Call with (dict "ctx" $ "port" "http"). */}}
{{- define "orderflow.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  {{- toYaml .ctx.Values.probes.readiness | nindent 2 }}
{{- end }}

{{/*
A Deployment for one long-running role that serves metrics and probes on port 9100. Call with
(dict "ctx" $ "component" "relay" "name" "<object name>" "args" (list ...) "replicas" 1
"autoscaled" false "resources" {...}).
*/}}
{{- define "orderflow.roleDeployment" -}}
{{- $ctx := .ctx }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "orderflow.componentLabels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
    {{- with .stage }}
    orderflow.io/stage: {{ . }}
    {{- end }}
spec:
  {{- if not .autoscaled }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "orderflow.componentSelectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
      {{- with .stage }}
      orderflow.io/stage: {{ . }}
      {{- end }}
  template:
    metadata:
      annotations:
        kubectl.kubernetes.io/default-container: {{ .component }}
        {{- with include "orderflow.secretChecksum" $ctx }}{{ . | nindent 8 }}{{ end }}
        {{- with $ctx.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "orderflow.componentSelectorLabels" (dict "ctx" $ctx "component" .component) | nindent 8 }}
        {{- with .stage }}
        orderflow.io/stage: {{ . }}
        {{- end }}
        orderflow.io/metrics: 'true'
        {{- with $ctx.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "orderflow.serviceAccountName" $ctx }}
      # The roles never call the Kubernetes API; only the operator gets a token.
      automountServiceAccountToken: false
      {{- include "orderflow.podSpecCommon" $ctx | nindent 6 }}
      containers:
        - name: {{ .component }}
          image: {{ include "orderflow.image" $ctx }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          ports:
            - name: metrics
              containerPort: 9100
              protocol: TCP
          env:
            {{- include "orderflow.env" (dict "ctx" $ctx "port" 9100 "secret" (include "orderflow.secretName" $ctx)) | nindent 12 }}
          {{- with $ctx.Values.extraEnvFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- include "orderflow.probes" (dict "ctx" $ctx "port" "metrics") | nindent 10 }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          securityContext:
            {{- toYaml $ctx.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        # Node and its libraries may need a scratch directory; the root filesystem is read-only.
        - name: tmp
          emptyDir: {}
{{- end }}
