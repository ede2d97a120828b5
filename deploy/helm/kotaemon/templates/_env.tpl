{{/*
Every environment variable the chart gives kotaemon, in one place: the ConfigMap's data, the
Secret's data, and the few variables that cannot live in either (the downward API, and URLs
built from Secrets the chart does not own). A renamed setting is one edit here.
*/}}

{{/* Non-secret settings: the data of ConfigMap kotaemon-config. */}}
{{- define "kotaemon.configEnv" -}}
{{- $c := .Values.config -}}
{{- $env := dict
  "KOTAEMON_HOST" "0.0.0.0"
  "KOTAEMON_PORT" "8000"
  "KOTAEMON_WORKER_PORT" (toString .Values.worker.port)
  "KOTAEMON_AUTH" $c.auth
  "KOTAEMON_LOG_LEVEL" $c.logLevel
  "KOTAEMON_LOG_FORMAT" "json"
  "KOTAEMON_AUTO_MIGRATE" (ternary "false" "true" .Values.migrations.enabled)
  "KOTAEMON_LLM_MODEL" $c.llm.model
  "KOTAEMON_LLM_TIMEOUT" (toString $c.llm.timeout)
  "KOTAEMON_EMBEDDING_BACKEND" $c.embedding.backend
  "KOTAEMON_EMBEDDING_MODEL" $c.embedding.model
  "KOTAEMON_TOP_K" (toString $c.retrieval.topK)
  "KOTAEMON_RETRIEVAL_MODE" $c.retrieval.mode
  "KOTAEMON_RATE_LIMIT_PER_MINUTE" (toString $c.rateLimit.perMinute)
  "KOTAEMON_RATE_LIMIT_IP_PER_MINUTE" (toString $c.rateLimit.ipPerMinute)
  "KOTAEMON_RATE_LIMIT_FAIL_OPEN" (toString $c.rateLimit.failOpen)
  "KOTAEMON_SHUTDOWN_DRAIN_SECONDS" (toString $c.shutdown.drainSeconds)
  "KOTAEMON_SHUTDOWN_GRACE_SECONDS" (toString $c.shutdown.graceSeconds)
  "KOTAEMON_WORKER_CONCURRENCY" (toString $c.workerConcurrency)
  "KOTAEMON_TRUSTED_PROXIES" (toJson $c.trustedProxies)
-}}
{{- if eq $c.auth "oidc" -}}
{{- $_ := set $env "KOTAEMON_OIDC_USER_CLAIM" $c.oidc.userClaim -}}
{{- $_ := set $env "KOTAEMON_OIDC_GROUPS_CLAIM" $c.oidc.groupsClaim -}}
{{- $_ := set $env "KOTAEMON_OIDC_ROLES_CLAIM" $c.oidc.rolesClaim -}}
{{- $_ := set $env "KOTAEMON_OIDC_SCOPE_MAP" (toJson $c.oidc.scopeMap) -}}
{{- $_ := set $env "KOTAEMON_OIDC_ATTRIBUTE_CLAIMS" (toJson $c.oidc.attributeClaims) -}}
{{- $_ := set $env "KOTAEMON_OIDC_ADMIN_GROUPS" (toJson $c.oidc.adminGroups) -}}
{{- end -}}
{{- $optional := dict
  "KOTAEMON_OIDC_ISSUER" $c.oidc.issuer
  "KOTAEMON_OIDC_AUDIENCE" $c.oidc.audience
  "KOTAEMON_OIDC_CLIENT_ID" $c.oidc.clientId
  "KOTAEMON_LLM_BASE_URL" $c.llm.baseUrl
  "KOTAEMON_EMBEDDING_BASE_URL" $c.embedding.baseUrl
  "KOTAEMON_PUBLIC_URL" (include "kotaemon.publicUrl" .)
  "OTEL_EXPORTER_OTLP_ENDPOINT" $c.otlp.endpoint
-}}
{{- range $name, $value := $optional -}}
{{- if $value -}}
{{- $_ := set $env $name $value -}}
{{- end -}}
{{- end -}}
{{- if and (eq $c.auth "none") $c.allowPublicWithoutAuth -}}
{{- $_ := set $env "KOTAEMON_ALLOW_PUBLIC_WITHOUT_AUTH" "true" -}}
{{- end -}}
{{- if gt (int $c.embedding.dim) 0 -}}
{{- $_ := set $env "KOTAEMON_EMBEDDING_DIM" (toString $c.embedding.dim) -}}
{{- end -}}
{{- if $c.agentConfig -}}
{{- $_ := set $env "KOTAEMON_AGENT_CONFIG" "/etc/kotaemon/agent.yaml" -}}
{{- end -}}
{{- if $c.otlp.endpoint -}}
{{- $_ := set $env "OTEL_SERVICE_NAME" $c.otlp.serviceName -}}
{{- $_ := set $env "OTEL_TRACES_SAMPLER" $c.otlp.sampler -}}
{{- $_ := set $env "OTEL_TRACES_SAMPLER_ARG" $c.otlp.samplerArg -}}
{{- end -}}
{{- range $name, $value := $c.extraEnv -}}
{{- $_ := set $env $name (toString $value) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* Secret settings: the data of Secret kotaemon-secrets (only those given). */}}
{{- define "kotaemon.secretEnv" -}}
{{- $s := .Values.secrets -}}
{{- $given := dict
  "KOTAEMON_DATABASE_URL" $s.databaseUrl
  "KOTAEMON_DATABASE_READ_URL" $s.databaseReadUrl
  "KOTAEMON_REDIS_URL" $s.redisUrl
  "KOTAEMON_LLM_API_KEY" $s.llmApiKey
  "KOTAEMON_EMBEDDING_API_KEY" $s.embeddingApiKey
  "KOTAEMON_OIDC_CLIENT_SECRET" $s.oidcClientSecret
  "KOTAEMON_METRICS_TOKEN" $s.metricsToken
-}}
{{- $env := dict -}}
{{- range $name, $value := $given -}}
{{- if $value -}}
{{- $_ := set $env $name $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* The keys the KEDA PostgreSQL trigger and the ServiceMonitor read from those Secrets. */}}
{{- define "kotaemon.databaseUrlSecretRef" -}}
{{- if .Values.cnpg.enabled -}}
name: {{ include "kotaemon.cnpgName" . }}-app
key: uri
{{- else -}}
name: {{ include "kotaemon.secretName" . }}
key: KOTAEMON_DATABASE_URL
{{- end -}}
{{- end -}}

{{- define "kotaemon.metricsTokenSecretRef" -}}
name: {{ include "kotaemon.secretName" . }}
key: KOTAEMON_METRICS_TOKEN
{{- end -}}

{{/*
The container's own variables: (dict "ctx" $ "container" "api"). The embedding engine's threads
follow the container's CPU limit (rounded up to whole cores), never the node's core count.
*/}}
{{- define "kotaemon.containerEnv" -}}
{{- $ctx := .ctx -}}
- name: KOTAEMON_EMBEDDING_THREADS
  valueFrom:
    resourceFieldRef:
      containerName: {{ .container }}
      resource: limits.cpu
      divisor: "1"
{{- if $ctx.Values.cnpg.enabled }}
- name: KOTAEMON_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "kotaemon.cnpgName" $ctx }}-app
      key: uri
- name: KOTAEMON_DATABASE_READ_URL
  value: "$(KOTAEMON_DATABASE_URL)?host={{ include "kotaemon.cnpgName" $ctx }}-ro.{{ $ctx.Release.Namespace }}"
{{- end }}
{{- if $ctx.Values.redis.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $ctx.Values.redis.existingSecret }}
      key: password
- name: KOTAEMON_REDIS_URL
  value: "redis://:$(REDIS_PASSWORD)@{{ include "kotaemon.redisName" $ctx }}:6379/0"
{{- end }}
{{- end -}}

{{/* KOTAEMON_PUBLIC_URL: the value, else the ingress host over HTTPS. */}}
{{- define "kotaemon.publicUrl" -}}
{{- if .Values.config.publicUrl -}}
{{- .Values.config.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "https://%s" .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* The seed's envFrom: the ConfigMap, then the Secret. */}}
{{- define "kotaemon.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "kotaemon.configMapName" . }}
  - secretRef:
      name: {{ include "kotaemon.secretName" . }}
{{- end -}}
