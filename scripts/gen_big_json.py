#!/usr/bin/env python3
"""Generate two large single JSON files for memory measurements (docs/performance.md).

    python3 scripts/gen_big_json.py [--out target/big-json] [--mb 5]

Writes, deterministically:
  numbers.json   a JSON array of integers, minified, about --mb MB;
  template.json  a minified CloudFormation-like template (S3 buckets, security groups, IAM roles
                 with policy documents, Lambda functions), about --mb MB.

Then measure peak RSS of scanning each, e.g.
    /usr/bin/time -v target/release/isms-lint scan target/big-json/template.json \
        --format json --output /dev/null --fail-on none
It is a generator, not a test: it asserts nothing."""
import argparse
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def numbers(target):
    out, size, i = [], 2, 0
    while size < target:
        n = (i * 7919) % 1000003
        out.append(n)
        size += len(str(n)) + 1
        i += 1
    return out


def resource(i):
    kind = i % 4
    if kind == 0:
        return f"Bucket{i}", {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": f"bucket-{i}",
                "VersioningConfiguration": {"Status": "Enabled"},
                "Tags": [{"Key": "team", "Value": f"t{i % 17}"}, {"Key": "env", "Value": "prod"}],
            },
        }
    if kind == 1:
        return f"Sg{i}", {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": f"group {i}",
                "VpcId": {"Ref": "Vpc"},
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": f"10.{i % 250}.0.0/16"},
                ],
            },
        }
    if kind == 2:
        return f"Role{i}", {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                },
                "Policies": [{
                    "PolicyName": f"p{i}",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": {"Fn::Sub": f"arn:aws:s3:::bucket-{i}/*"}}],
                    },
                }],
            },
        }
    return f"Fn{i}", {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Role": {"Fn::GetAtt": [f"Role{i - 1}", "Arn"]},
            "Code": {"S3Bucket": f"bucket-{i - 3}", "S3Key": f"code/{i}.zip"},
            "Environment": {"Variables": {"LOG_LEVEL": "info", "TABLE": f"table-{i}"}},
        },
    }


def template(target):
    resources, size, i = {}, 100, 0
    while size < target:
        name, body = resource(i)
        resources[name] = body
        size += len(json.dumps({name: body}, separators=(",", ":")))
        i += 1
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "big-json"))
    ap.add_argument("--mb", type=float, default=5.0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    target = int(args.mb * 1_000_000)
    for name, value in [("numbers.json", numbers(target)), ("template.json", template(target))]:
        path = os.path.join(args.out, name)
        with open(path, "w") as f:
            json.dump(value, f, separators=(",", ":"))
        print(f"{path}: {os.path.getsize(path):,} bytes")


if __name__ == "__main__":
    main()
