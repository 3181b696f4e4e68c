#!/usr/bin/env python3
"""Deterministic benchmark corpus for isms-lint: Kubernetes multi-document YAML, Terraform
modules, Dockerfiles, GitHub workflows, Compose files and CloudFormation templates, plus a few
large (1-2 MB) files. Usage: gen_corpus.py OUT_DIR [FILES]  (default 10000 files)."""
import os
import random
import sys

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
rnd = random.Random(27001)


def write(path, text):
    full = os.path.join(out, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def k8s(i):
    docs = []
    for j in range(rnd.randint(1, 4)):
        priv = "true" if rnd.random() < 0.2 else "false"
        tag = rnd.choice(["1.25.3", "latest", "1.27@sha256:" + "a" * 64])
        limits = "\n          resources:\n            limits: {cpu: 500m, memory: 256Mi}" if rnd.random() < 0.6 else ""
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}-{j}
  namespace: team-{i % 17}
  labels: {{app.kubernetes.io/name: app-{i}, owner: team-{i % 17}}}
spec:
  replicas: {rnd.randint(1, 5)}
  template:
    spec:
      serviceAccountName: sa-{i}
      containers:
        - name: web
          image: registry.example.com/app:{tag}
          securityContext:
            privileged: {priv}
            allowPrivilegeEscalation: false
            runAsNonRoot: true{limits}
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
""")
    return "---\n".join(docs)


def terraform(i):
    enc = rnd.random() < 0.5
    block = """
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default { sse_algorithm = "aws:kms" }
    }
  }""" if enc else ""
    return f"""variable "env" {{
  default = "prod"
}}

resource "aws_s3_bucket" "b{i}" {{
  bucket = "bucket-{i}-${{var.env}}"{block}
  tags = {{ owner = "team-{i % 9}", data-classification = "internal" }}
}}

resource "aws_security_group" "sg{i}" {{
  name = "sg-{i}"
  ingress {{
    from_port   = {rnd.choice([22, 443, 3389])}
    to_port     = {rnd.choice([22, 443, 3389])}
    protocol    = "tcp"
    cidr_blocks = ["{rnd.choice(["0.0.0.0/0", "10.0.0.0/8"])}"]
  }}
}}
"""


def dockerfile(i):
    user = "USER app\n" if rnd.random() < 0.5 else ""
    return f"""# syntax=docker/dockerfile:1
ARG BASE=python:3.12-slim
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache go build -o /out/app{i} ./...

FROM ${{BASE}}
RUN apt-get update \\
 && apt-get install -y --no-install-recommends curl \\
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/app{i} /usr/local/bin/app
{user}HEALTHCHECK CMD curl -f http://localhost/ || exit 1
ENTRYPOINT ["/usr/local/bin/app"]
"""


def workflow(i):
    return f"""name: ci-{i}
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@{rnd.choice(["v4", "11bd71901bbe5b1630ceea73d27597364c9af683"])}
        with: {{persist-credentials: false}}
      - run: echo "${{{{ github.event.pull_request.title }}}}"
      - run: make test
"""


def compose(i):
    return f"""services:
  web{i}:
    image: nginx:{rnd.choice(["1.27", "latest"])}
    ports: ["{rnd.choice(["8080:80", "127.0.0.1:5432:5432", "22:22"])}"]
    environment:
      LOG_LEVEL: info
      API_TOKEN: {rnd.choice(["${API_TOKEN}", "plain-text-token"])}
    read_only: true
    user: "1000"
"""


def cloudformation(i):
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bucket{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "bucket-{i}-${{AWS::Region}}"
      VersioningConfiguration: {{Status: Enabled}}
  Db{i}:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      StorageEncrypted: {rnd.choice(["true", "false"])}
      BackupRetentionPeriod: {rnd.choice([0, 7, 14])}
      PubliclyAccessible: false
  Sg{i}:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: sg
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: {rnd.choice(["0.0.0.0/0", "10.0.0.0/8"])}}}
"""


kinds = [
    (0.40, lambda i: (f"k8s/ns{i % 50}/app{i}.yaml", k8s(i))),
    (0.15, lambda i: (f"terraform/mod{i // 3}/main{i % 3}.tf", terraform(i))),
    (0.12, lambda i: (f"services/svc{i}/Dockerfile", dockerfile(i))),
    (0.10, lambda i: (f"repos/r{i}/.github/workflows/ci.yml", workflow(i))),
    (0.10, lambda i: (f"compose/c{i}/docker-compose.yml", compose(i))),
    (0.13, lambda i: (f"cfn/stack{i}.yaml", cloudformation(i))),
]
weights = [k[0] for k in kinds]
for i in range(total - 3):
    make = rnd.choices(kinds, weights)[0][1]
    path, text = make(i)
    write(path, text)
# A few large files (1-2 MB): a big multi-document manifest and a big template.
write("large/big-manifests.yaml", "---\n".join(k8s(100000 + j) for j in range(700)))
write("large/big-template.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n" + "".join(
    cloudformation(200000 + j).split("Resources:\n", 1)[1] for j in range(2000)))
write("large/big-stack.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n" + "".join(
    cloudformation(300000 + j).split("Resources:\n", 1)[1] for j in range(3000)))
