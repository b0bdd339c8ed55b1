// Package webui is the live master's web interface, served at / on the
// master's port: an overview of the cluster (agents, the masters of a
// replicated cluster with the leader and the term, resources, the last
// hour's utilization, frameworks and their shares, the policy, tasks), a
// page per agent, framework and task, and task sandboxes read through the
// master. Pages are server-rendered from html/template with the templates,
// stylesheet and a small script embedded in the binary; the script
// refreshes each page's content every two seconds, so the pages stay live
// without a front-end build or any external request.
package webui
