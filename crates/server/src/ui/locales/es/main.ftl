language-name = Español
skip-to-content = Ir al contenido
nav-label = Menú principal
nav-dashboard = Panel
nav-intel = Inteligencia
nav-requests = Solicitudes
nav-sessions = Mis sesiones
pref-language = Idioma
pref-time-zone = Huso horario
pref-apply = Aplicar
sign-out = Cerrar sesión
yes = Sí
no = No

error-back = Volver al panel
error-too-large = El formulario es demasiado grande.
error-csrf = Este formulario ha caducado o no procede de este sitio. Recargue la página e inténtelo de nuevo.
error-forbidden = No tiene permiso para hacer esto.
error-not-found = No encontrado.
error-throttled = Demasiados intentos. Espere un minuto e inténtelo de nuevo.
error-invalid = La solicitud no es válida.
error-internal = Se produjo un error en el servidor. El incidente ha quedado registrado.
error-busy = Hay demasiadas personas conectadas. Inténtelo más tarde.
error-language = Este idioma no está disponible.
error-time-zone = Huso horario desconocido: use un nombre como Europe/Madrid o UTC.

signin-title = Iniciar sesión
signin-name = Nombre de usuario
signin-password = Contraseña
signin-submit = Entrar
signin-failed = Nombre de usuario o contraseña incorrectos.
signin-throttled = Demasiados intentos fallidos. Espere un minuto antes de volver a intentarlo.

sessions-title = Mis sesiones
sessions-count = { $count ->
    [one] Tiene una sesión abierta.
   *[other] Tiene { $count } sesiones abiertas.
}
sessions-since = Inicio
sessions-browser = Navegador
sessions-action = Acción
sessions-current = esta
sessions-revoke = Cerrar esta sesión

dashboard-title = Panel
dashboard-waiting = Solicitudes pendientes de nuestra actuación
dashboard-waiting-count = { $count ->
    [0] Ninguna solicitud espera nuestra actuación.
    [one] Una solicitud espera nuestra actuación.
   *[other] { $count } solicitudes esperan nuestra actuación.
}
dashboard-recent = Inteligencia nueva esta semana
dashboard-recent-none = Nada nuevo esta semana que usted pueda leer.
dashboard-log = Registro de transparencia
dashboard-log-none = El registro aún no tiene punto de control.
dashboard-cosignatures = { $count ->
    [0] Ningún par ha cofirmado todavía este punto de control.
    [one] Cofirmado por un par.
   *[other] Cofirmado por { $count } pares.
}

intel-title = Inteligencia
intel-none = No puede leer ninguna colección.
intel-filter-type = Tipo de objeto
intel-filter = Filtrar
intel-empty = No hay objetos que mostrar.
intel-objects = Objetos
intel-next = Página siguiente

object-type = Tipo
object-name = Nombre
object-id = Identificador
object-markings = Marcados
object-version = Versión
object-back = Volver a la colección
object-no-tlp = Sin marcado TLP
object-versions = { $count ->
    [one] Una versión
   *[other] { $count } versiones
}
object-json = JSON STIX
object-who-else = Quién más lo ha visto
object-who-else-no-values = Este objeto no contiene ningún valor observable que buscar.
object-who-else-suppressed = En una lista de advertencia, sin correlación:
object-who-else-count = { $count ->
    [0] Ningún otro objeto que usted puede leer lo contiene.
    [one] Otro objeto que usted puede leer lo contiene
   *[other] { $count } otros objetos que usted puede leer lo contienen
}
object-who-else-members = { $count ->
    [one] (un miembro).
   *[other] ({ $count } miembros).
}

tlp-clear = TLP:CLEAR: la divulgación no está limitada.
tlp-green = TLP:GREEN: divulgación limitada, dentro de la comunidad.
tlp-amber = TLP:AMBER: divulgación limitada a la organización del destinatario y sus clientes.
tlp-amber-strict = TLP:AMBER+STRICT: divulgación limitada a la organización del destinatario.
tlp-red = TLP:RED: solo para los destinatarios individuales.
handling-h0 = Solo para fines policiales.
handling-h1 = No utilizable en procesos judiciales sin el consentimiento del emisor.
handling-h2 = Sin difusión ulterior sin el consentimiento del emisor.
handling-h3 = Otras restricciones, indicadas en el texto.

requests-title = Solicitudes de cooperación
requests-new = Redactar una nueva solicitud
requests-inbox = Recibidas: solicitudes dirigidas a nosotros
requests-outbox = Enviadas: nuestras solicitudes
requests-count = { $count ->
    [0] Ninguna solicitud.
    [one] Una solicitud.
   *[other] { $count } solicitudes.
}

request-id = Identificador
request-kind = Tipo
request-partner = Socio
request-requester = Miembro requirente
request-requested = Miembro requerido
request-state = Estado
request-due = Vencimiento (su hora)
request-due-partner = Vencimiento (hora del socio)
request-emergency = Urgencia
request-overdue = Vencida
request-acts = Lo que puede hacer
request-reason = Motivo
request-until = Conservado hasta (RFC 3339)
request-link = Solicitud de seguimiento
request-conditions = Condiciones
request-note = Nota
request-timeline = Historial firmado
request-at = El
request-by = por
request-signature = Firma
request-document = Documento de la solicitud

draft-title = Nueva solicitud
draft-choose = Elegir
draft-to = Miembro requerido (identity--…)
draft-emergency = Urgencia (riesgo inminente para la vida o la seguridad)
draft-emergency-justification = Justificación de la urgencia
draft-source = Exigido por
draft-save = Guardar como borrador

kind-assistance = Asistencia (red 24/7)
kind-preservation = Conservación rápida
kind-disclosure = Revelación rápida de datos de tráfico
kind-production = Orden de presentación
kind-mla = Asistencia judicial mutua

field-authority-name = Autoridad requirente
field-authority-contact = Contacto de la autoridad
field-authority-time-zone = Huso horario de la autoridad
field-legal-basis-instrument = Instrumento jurídico
field-summary = Resumen de los hechos
field-offence = Delito
field-details-incident = Incidente
field-details-help-sought = Ayuda solicitada
field-details-data = Datos que deben conservarse
field-details-relation-to-offence = Relación de los datos con el delito
field-details-custodian = Custodio de los datos
field-details-necessity = Necesidad de la conservación
field-details-mla-to-follow = Seguirá una solicitud de asistencia mutua
field-details-preservation = Conservación a la que sigue
field-details-communication = Comunicación afectada
field-details-categories = Categorías de datos (separadas por comas)
field-details-time-range-from = Desde
field-details-time-range-to = Hasta
field-details-time-range-time-zone = Huso horario del periodo
field-details-addressee = Proveedor de servicios destinatario
field-details-purpose = Finalidad de la solicitud
field-details-assistance-sought = Asistencia solicitada
field-details-laws = Derecho aplicable
field-details-proceedings = Procedimiento afectado

state-draft = Borrador
state-submitted = Enviada
state-delivered = Recibida
state-acknowledged = Acuse de recibo
state-under-review = En examen
state-info-requested = Información solicitada
state-accepted = Aceptada
state-accepted-with-conditions = Aceptada con condiciones
state-postponed = Aplazada
state-refused = Denegada
state-in-execution = En ejecución
state-partially-executed = Ejecutada en parte
state-executed = Ejecutada
state-closed = Cerrada
state-preserved = Datos conservados
state-extended = Prorrogada
state-linked = Vinculada
state-lapsed = Caducada
state-released = Datos liberados
state-withdrawn = Retirada

act-submit = Firmar y enviar
act-deliver = Recibida
act-retrieve = Abierta
act-acknowledge = Acusar recibo
act-review = Iniciar el examen
act-request-info = Pedir información
act-supply-info = Facilitar información
act-accept = Aceptar
act-accept-with-conditions = Aceptar con condiciones
act-accept-conditions = Aceptar las condiciones
act-postpone = Aplazar
act-resume = Reanudar
act-refuse = Denegar
act-execute = Iniciar la ejecución
act-execute-partially = Entregar en parte
act-complete = Completar
act-close = Cerrar
act-preserve = Confirmar la conservación
act-extend = Prorrogar la conservación
act-link = Vincular la solicitud de seguimiento
act-lapse = Registrar la caducidad
act-release = Liberar los datos
act-withdraw = Retirar

reason-essential-interests = Intereses esenciales (soberanía, seguridad, orden público)
reason-political-offence = Delito político
reason-dual-criminality = No se cumple la doble incriminación
reason-immunity = Inmunidades o privilegios
reason-fundamental-rights = Derechos fundamentales
reason-ne-bis-in-idem = Ne bis in idem
reason-incomplete = Solicitud incompleta o manifiestamente errónea
reason-data-not-held = Datos no disponibles
reason-impossible = Ejecución imposible
reason-other = Otro motivo (en la nota)
