#!/usr/bin/python3
"""Checks the rendered Helm chart: the objects a cluster needs, wired to each other correctly."""
import base64
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from render_chart import TemplateError, render_chart  # noqa: E402

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "peat-mesh"


def by_kind(docs):
    return {d["kind"]: d for d in docs}


class ChartTest(unittest.TestCase):
    def render(self, **overrides):
        base = {"formationSecret": "c2VjcmV0"}
        base.update(overrides)
        return by_kind(render_chart(CHART, base))

    def test_renders_every_object(self):
        kinds = self.render()
        self.assertEqual(sorted(kinds), ["Role", "RoleBinding", "Secret", "Service",
                                         "ServiceAccount", "StatefulSet"])

    def test_names_and_selectors_line_up(self):
        k = self.render()
        sts, svc = k["StatefulSet"], k["Service"]
        self.assertEqual(sts["metadata"]["name"], "peat-peat-mesh")
        self.assertEqual(sts["spec"]["serviceName"], svc["metadata"]["name"])
        self.assertEqual(svc["spec"]["clusterIP"], "None")
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        for key, val in sts["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(pod_labels[key], val)
        for key, val in svc["spec"]["selector"].items():
            self.assertEqual(pod_labels[key], val)

    def test_release_name_containing_chart_name_is_used_as_is(self):
        docs = by_kind(render_chart(CHART, {"formationSecret": "eA=="}, release_name="peat-mesh"))
        self.assertEqual(docs["StatefulSet"]["metadata"]["name"], "peat-mesh")

    def test_secret_reaches_the_pod_env(self):
        k = self.render(formationSecret="Zm9ybWF0aW9u")
        secret = k["Secret"]
        self.assertEqual(base64.b64decode(secret["data"]["formation-secret"]).decode(), "Zm9ybWF0aW9u")
        env = {e["name"]: e for e in k["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        ref = env["PEAT_FORMATION_SECRET"]["valueFrom"]["secretKeyRef"]
        self.assertEqual(ref, {"name": secret["metadata"]["name"], "key": "formation-secret"})
        self.assertEqual(env["PEAT_DISCOVERY"]["value"], "kubernetes")
        self.assertEqual(env["PEAT_BROKER_PORT"]["value"], "8081")
        self.assertNotIn("PEAT_BROKER_TOKEN", env)

    def test_missing_formation_secret_fails(self):
        with self.assertRaises(TemplateError):
            render_chart(CHART, {})

    def test_rbac_allows_endpointslice_watch_for_the_pod_account(self):
        k = self.render()
        rule = k["Role"]["rules"][0]
        self.assertEqual(rule["apiGroups"], ["discovery.k8s.io"])
        self.assertTrue({"list", "watch"} <= set(rule["verbs"]))
        self.assertEqual(k["RoleBinding"]["subjects"][0]["name"], k["ServiceAccount"]["metadata"]["name"])
        pod = k["StatefulSet"]["spec"]["template"]["spec"]
        self.assertEqual(pod["serviceAccountName"], k["ServiceAccount"]["metadata"]["name"])

    def test_without_service_account_no_rbac(self):
        k = self.render(**{"serviceAccount.create": False})
        self.assertNotIn("Role", k)
        self.assertEqual(k["StatefulSet"]["spec"]["template"]["spec"]["serviceAccountName"], "default")

    def test_probes_use_the_broker_port(self):
        c = self.render()["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p for p in c["ports"]}
        self.assertEqual(ports["broker"]["containerPort"], 8081)
        self.assertEqual(ports["quic"]["protocol"], "UDP")
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/api/v1/health", "port": "broker"})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/api/v1/ready", "port": "broker"})
        self.assertEqual(c["resources"]["limits"]["memory"], "256Mi")

    def test_persistence_toggles_between_claim_and_empty_dir(self):
        sts = self.render()["StatefulSet"]
        self.assertEqual(sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "data")
        sts = self.render(**{"persistence.enabled": False})["StatefulSet"]
        self.assertNotIn("volumeClaimTemplates", sts["spec"])
        self.assertEqual(sts["spec"]["template"]["spec"]["volumes"], [{"name": "data", "emptyDir": {}}])

    def test_broker_token_is_wired_from_the_secret(self):
        k = self.render(brokerToken="t0k")
        env = {e["name"]: e for e in k["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env["PEAT_BROKER_TOKEN"]["valueFrom"]["secretKeyRef"]["key"], "broker-token")


if __name__ == "__main__":
    unittest.main()
