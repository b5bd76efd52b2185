// Package logging builds ssoflow's zerolog loggers and adapts them for asynq.
package logging

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// New returns a logger writing to w at level (debug, info, warn, error;
// empty means info) in format (json, or console for people; empty means
// json).
func New(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl := zerolog.InfoLevel
	if level != "" {
		l, err := zerolog.ParseLevel(strings.ToLower(level))
		if err != nil || l == zerolog.NoLevel {
			return zerolog.Nop(), fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", level)
		}
		lvl = l
	}
	switch strings.ToLower(format) {
	case "", "json":
	case "console":
		f, isFile := w.(*os.File)
		colour := isFile && isatty.IsTerminal(f.Fd())
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !colour}
	default:
		return zerolog.Nop(), fmt.Errorf("LOG_FORMAT %q: want json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// Asynq adapts a zerolog logger to asynq's Logger.
type Asynq struct{ Log zerolog.Logger }

var _ asynq.Logger = Asynq{}

// Debug implements asynq.Logger.
func (a Asynq) Debug(args ...any) { a.Log.Debug().Msg(fmt.Sprint(args...)) }

// Info implements asynq.Logger.
func (a Asynq) Info(args ...any) { a.Log.Info().Msg(fmt.Sprint(args...)) }

// Warn implements asynq.Logger.
func (a Asynq) Warn(args ...any) { a.Log.Warn().Msg(fmt.Sprint(args...)) }

// Error implements asynq.Logger.
func (a Asynq) Error(args ...any) { a.Log.Error().Msg(fmt.Sprint(args...)) }

// Fatal implements asynq.Logger; it exits the process, as asynq expects.
func (a Asynq) Fatal(args ...any) { a.Log.Fatal().Msg(fmt.Sprint(args...)) }

// AsynqLevel maps a zerolog level to asynq's. asynq's debug lines (an idle
// worker says "All queues are empty" at every look) are not worth their
// volume, so debug maps to info.
func AsynqLevel(l zerolog.Level) asynq.LogLevel {
	switch {
	case l <= zerolog.InfoLevel:
		return asynq.InfoLevel
	case l == zerolog.WarnLevel:
		return asynq.WarnLevel
	case l == zerolog.ErrorLevel:
		return asynq.ErrorLevel
	}
	return asynq.FatalLevel
}

// Redis adapts a zerolog logger to go-redis's internal logger, which
// otherwise writes plain text lines into the JSON logs. Its messages are
// about connections failing, so they are warnings.
type Redis struct{ Log zerolog.Logger }

// Printf implements go-redis's logger.
func (r Redis) Printf(_ context.Context, format string, v ...any) {
	r.Log.Warn().Msg(fmt.Sprintf(format, v...))
}
