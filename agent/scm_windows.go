//go:build windows

package agent

import (
	"context"

	"golang.org/x/sys/windows/svc"
)

// RunService runs loop under the Windows service manager as the service
// name, until the manager stops it (loop's ctx then ends). It talks to
// the manager directly (x/sys/windows/svc), so it works where a check of
// "am I a service?" guesses wrong (Wine).
func RunService(name string, loop func(ctx context.Context) error) error {
	return svc.Run(name, &scmHandler{loop: loop})
}

type scmHandler struct {
	loop func(ctx context.Context) error
}

func (h *scmHandler) Execute(args []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.loop(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				<-done
				return false, 0
			}
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				return false, 1 // ERROR_INVALID_FUNCTION: the loop failed
			}
			return false, 0
		}
	}
}
