{{/*
Names, labels, the image and the pod pieces every workload shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "kotaemon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object name: the release name when it holds the chart name (release
`kotaemon` gives kotaemon-service, kotaemon-config…), else `<release>-kotaemon`.
*/}}
{{- define "kotaemon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "kotaemon.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kotaemon.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names. */}}
{{- define "kotaemon.serviceName" -}}{{ include "kotaemon.fullname" . }}-service{{- end -}}
{{- define "kotaemon.configMapName" -}}{{ include "kotaemon.fullname" . }}-config{{- end -}}
{{- define "kotaemon.secretName" -}}
{{- default (printf "%s-secrets" (include "kotaemon.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}
{{- define "kotaemon.apiName" -}}{{ include "kotaemon.fullname" . }}-api{{- end -}}
{{- define "kotaemon.workerName" -}}{{ include "kotaemon.fullname" . }}-worker{{- end -}}
{{- define "kotaemon.cnpgName" -}}{{ include "kotaemon.fullname" . }}-db{{- end -}}
{{- define "kotaemon.redisName" -}}{{ include "kotaemon.fullname" . }}-redis{{- end -}}
{{- define "kotaemon.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kotaemon.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "kotaemon.labels" -}}
helm.sh/chart: {{ include "kotaemon.chart" . }}
app.kubernetes.io/name: {{ include "kotaemon.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kotaemon
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "api"). */}}
{{- define "kotaemon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kotaemon.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's objects. */}}
{{- define "kotaemon.componentLabels" -}}
{{ include "kotaemon.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Metadata annotations of every object (commonAnnotations). */}}
{{/* Called at the metadata's indentation: `{{- include "kotaemon.annotations" . }}`. */}}
{{- define "kotaemon.annotations" -}}
{{- with .Values.commonAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "kotaemon.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The pod-level settings the api, worker, migration and test pods share. */}}
{{- define "kotaemon.podCommon" -}}
serviceAccountName: {{ include "kotaemon.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/*
Checksums of the configuration the pods read, so that a change rolls them. With an
existingSecret the chart cannot see its content: roll the pods yourself when it changes.
*/}}
{{- define "kotaemon.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{/* Volumes of the kotaemon containers: a writable /tmp, and the agent file when set. */}}
{{- define "kotaemon.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.config.agentConfig }}
- name: agent-config
  configMap:
    name: {{ include "kotaemon.configMapName" . }}
    items:
      - key: agent.yaml
        path: agent.yaml
{{- end }}
{{- end -}}

{{- define "kotaemon.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.config.agentConfig }}
- name: agent-config
  mountPath: /etc/kotaemon
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The api's anti-affinity, as in the seed: prefer one `app: kotaemon` pod per node (`hard`
requires it, and then needs as many nodes as replicas).
*/}}
{{- define "kotaemon.apiAffinity" -}}
{{- $term := dict "labelSelector" (dict "matchExpressions" (list (dict "key" "app" "operator" "In" "values" (list (include "kotaemon.fullname" .))))) "topologyKey" "kubernetes.io/hostname" -}}
{{- if eq .Values.api.podAntiAffinity "soft" -}}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          {{- toYaml $term | nindent 10 }}
{{- else if eq .Values.api.podAntiAffinity "hard" -}}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - {{- toYaml $term | nindent 8 }}
{{- end }}
{{- end -}}

{{/*
Stop the render on a bad combination of values, with every problem in one message.
*/}}
{{- define "kotaemon.validateValues" -}}
{{- $messages := list -}}
{{- $v := .Values -}}
{{- if eq $v.config.auth "oidc" -}}
{{- if not $v.config.oidc.issuer -}}
{{- $messages = append $messages "config.oidc.issuer: config.auth is `oidc`, so set the issuer URL of your identity provider (e.g. https://keycloak.example.com/realms/acme), or set config.auth=none with config.allowPublicWithoutAuth=true behind a gateway that authenticates" -}}
{{- end -}}
{{- if not (or $v.config.oidc.audience $v.config.oidc.clientId) -}}
{{- $messages = append $messages "config.oidc.audience: set the audience access tokens must carry (or config.oidc.clientId); without it, tokens the issuer signed for any other application would be accepted" -}}
{{- end -}}
{{- else if not $v.config.allowPublicWithoutAuth -}}
{{- $messages = append $messages "config.auth: `none` makes every caller an admin, and kotaemon refuses to serve so on a pod address; use config.auth=oidc, or set config.allowPublicWithoutAuth=true only behind a gateway that authenticates every request" -}}
{{- end -}}
{{- if not (or $v.secrets.existingSecret $v.secrets.databaseUrl $v.cnpg.enabled) -}}
{{- $messages = append $messages "secrets.databaseUrl: set the PostgreSQL URL (pgvector >= 0.8), or secrets.existingSecret with a KOTAEMON_DATABASE_URL key, or cnpg.enabled=true for a CloudNativePG cluster" -}}
{{- end -}}
{{- if and $v.cnpg.enabled (or $v.secrets.databaseUrl $v.secrets.databaseReadUrl) -}}
{{- $messages = append $messages "secrets.databaseUrl: with cnpg.enabled the database URLs come from the CloudNativePG cluster; leave secrets.databaseUrl and secrets.databaseReadUrl empty" -}}
{{- end -}}
{{- if and $v.cnpg.enabled (or $v.cnpg.backup.enabled $v.cnpg.recovery.enabled) (not (and $v.cnpg.backup.destinationPath $v.cnpg.backup.s3CredentialsSecret)) -}}
{{- $messages = append $messages "cnpg.backup: backups and recovery need cnpg.backup.destinationPath (e.g. s3://kotaemon-backups/prod) and cnpg.backup.s3CredentialsSecret (keys ACCESS_KEY_ID, ACCESS_SECRET_KEY); or set cnpg.backup.enabled=false (not advised)" -}}
{{- end -}}
{{- if and $v.cnpg.enabled $v.cnpg.recovery.enabled $v.cnpg.backup.enabled (eq (default (include "kotaemon.cnpgName" .) $v.cnpg.backup.serverName) $v.cnpg.recovery.serverName) -}}
{{- $messages = append $messages (printf "cnpg.backup.serverName: the restored cluster would archive into the backups it restores from (%s); set a new one, e.g. %s-restored-1" $v.cnpg.recovery.serverName $v.cnpg.recovery.serverName) -}}
{{- end -}}
{{- if and $v.redis.enabled (not $v.redis.existingSecret) -}}
{{- $messages = append $messages "redis.existingSecret: the chart's Redis needs a password: create a Secret with a `password` key (URL-safe characters) and name it here" -}}
{{- end -}}
{{- if and $v.redis.enabled $v.secrets.redisUrl -}}
{{- $messages = append $messages "secrets.redisUrl: with redis.enabled the URL points at the chart's Redis; leave secrets.redisUrl empty" -}}
{{- end -}}
{{- $drain := $v.config.shutdown.drainSeconds | float64 -}}
{{- $grace := $v.config.shutdown.graceSeconds | float64 -}}
{{- $needed := addf $v.api.preStopSleepSeconds $drain $grace 5 -}}
{{- if lt ($v.api.terminationGracePeriodSeconds | float64) $needed -}}
{{- $messages = append $messages (printf "api.terminationGracePeriodSeconds: %v is too short for preStopSleepSeconds (%v) + config.shutdown.drainSeconds (%v) + config.shutdown.graceSeconds (%v) + 5 s of margin: set it to %v or more, or streams are cut at shutdown" $v.api.terminationGracePeriodSeconds $v.api.preStopSleepSeconds $drain $grace (ceil $needed)) -}}
{{- end -}}
{{- if and (ne $v.autoscaling.mode "none") (gt (int $v.autoscaling.api.minReplicas) (int $v.autoscaling.api.maxReplicas)) -}}
{{- $messages = append $messages (printf "autoscaling.api.minReplicas (%v) is above autoscaling.api.maxReplicas (%v)" $v.autoscaling.api.minReplicas $v.autoscaling.api.maxReplicas) -}}
{{- end -}}
{{- if and (ne $v.autoscaling.mode "none") (gt (int $v.autoscaling.worker.minReplicas) (int $v.autoscaling.worker.maxReplicas)) -}}
{{- $messages = append $messages (printf "autoscaling.worker.minReplicas (%v) is above autoscaling.worker.maxReplicas (%v)" $v.autoscaling.worker.minReplicas $v.autoscaling.worker.maxReplicas) -}}
{{- end -}}
{{- if and (eq $v.autoscaling.mode "hpa") (lt (int $v.autoscaling.worker.minReplicas) 1) -}}
{{- $messages = append $messages "autoscaling.worker.minReplicas: a HorizontalPodAutoscaler cannot scale to 0; use 1 or more, or autoscaling.mode=keda to scale workers to zero on an empty queue" -}}
{{- end -}}
{{- if and $v.gateway.enabled (not $v.gateway.parentRefs) -}}
{{- $messages = append $messages "gateway.parentRefs: the HTTPRoute needs the Gateway it attaches to, e.g. [{name: public, namespace: gateway}]" -}}
{{- end -}}
{{- if $v.networkPolicy.enabled -}}
{{- $np := $v.networkPolicy.egress -}}
{{- if not (or $np.postgres.to $v.cnpg.enabled) -}}
{{- $messages = append $messages "networkPolicy.egress.postgres.to: the pods may reach nothing but what is listed: say where PostgreSQL is (e.g. [{ipBlock: {cidr: 10.0.12.0/24}}]), or set networkPolicy.enabled=false" -}}
{{- end -}}
{{- if and (eq $v.config.auth "oidc") (not $np.oidc.to) -}}
{{- $messages = append $messages "networkPolicy.egress.oidc.to: the pods read the issuer's keys: say where config.oidc.issuer is (e.g. [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}] for an outside provider)" -}}
{{- end -}}
{{- if and $v.secrets.redisUrl (not $np.redis.to) -}}
{{- $messages = append $messages "networkPolicy.egress.redis.to: secrets.redisUrl is set: say where Redis is" -}}
{{- end -}}
{{- if and $v.config.llm.baseUrl (not $np.llm.to) -}}
{{- $messages = append $messages "networkPolicy.egress.llm.to: config.llm.baseUrl is set: say where the LLM server is" -}}
{{- end -}}
{{- if and (eq $v.config.embedding.backend "openai") (not $np.embedding.to) -}}
{{- $messages = append $messages "networkPolicy.egress.embedding.to: config.embedding.backend is `openai`: say where the embeddings server is" -}}
{{- end -}}
{{- if and $v.config.otlp.endpoint (not $np.otlp.to) -}}
{{- $messages = append $messages "networkPolicy.egress.otlp.to: config.otlp.endpoint is set: say where the collector is" -}}
{{- end -}}
{{- end -}}
{{- if $messages -}}
{{- printf "\nVALUES VALIDATION:\n%s" (join "\n" $messages) | fail -}}
{{- end -}}
{{- end -}}
